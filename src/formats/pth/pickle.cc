#include "formats/pth/pickle.h"

#include <cstring>
#include <limits>
#include <unordered_map>
#include <utility>

namespace personcls::pth {

Value::~Value() {
  if (items.empty()) return;
  thread_local std::vector<ValuePtr>* pending = nullptr;
  if (pending != nullptr) {
    for (auto& v : items) pending->push_back(std::move(v));
    return;
  }
  std::vector<ValuePtr> work = std::move(items);
  pending = &work;
  while (!work.empty()) {
    ValuePtr p = std::move(work.back());
    work.pop_back();
    p.reset();  // a Value destroyed here hands its children to `work`
  }
  pending = nullptr;
}

Unpickled::~Unpickled() {
  for (const std::weak_ptr<Value>& w : made_)
    if (ValuePtr v = w.lock()) std::vector<ValuePtr>().swap(v->items);  // drops what it holds
}

namespace {

constexpr size_t kMaxStack = 1 << 20;

using K = Value::Kind;

// What one Value, one item pointer and one memo entry cost, for the budget: the object,
// shared_ptr's control block and the allocator's overhead, rounded up.
constexpr uint64_t kValueCost = sizeof(Value) + 32 + sizeof(std::weak_ptr<Value>);
constexpr uint64_t kItemCost = sizeof(ValuePtr);
constexpr uint64_t kMemoCost = 64;

bool StorageDType(const std::string& global, std::string* dtype, int64_t* bytes) {
  static const struct {
    const char* name;
    const char* dtype;
    int64_t bytes;
  } kTable[] = {{"torch.FloatStorage", "F32", 4}, {"torch.DoubleStorage", "F64", 8},  {"torch.HalfStorage", "F16", 2},
                {"torch.BFloat16Storage", "BF16", 2}, {"torch.LongStorage", "I64", 8}, {"torch.IntStorage", "I32", 4},
                {"torch.ShortStorage", "I16", 2},   {"torch.CharStorage", "I8", 1},    {"torch.ByteStorage", "U8", 1},
                {"torch.BoolStorage", "BOOL", 1}};
  for (const auto& e : kTable)
    if (global == e.name) {
      *dtype = e.dtype;
      *bytes = e.bytes;
      return true;
    }
  return false;
}

class Machine {
 public:
  Machine(const uint8_t* data, size_t size, MemoryBudget& budget) : p_(data), end_(data + size), begin_(data), budget_(budget) {}

  // Every value made so far (see Unpickled).
  std::vector<std::weak_ptr<Value>>& made() { return made_; }

  Expected<ValuePtr> Run() {
    while (true) {
      if (p_ >= end_) return Fail("truncated pickle (no STOP)");
      const size_t at = static_cast<size_t>(p_ - begin_);
      const uint8_t op = *p_++;
      if (op == '.') {
        if (stack_.size() != 1 || !marks_.empty()) return Fail("STOP with " + std::to_string(stack_.size()) + " values on the stack");
        return stack_.back();
      }
      Status st = Step(op);
      if (!st.ok()) return st.WithContext("pickle offset " + std::to_string(at));
      if (stack_.size() > kMaxStack) return Fail("pickle stack too deep");
      // What this opcode allocated (values, strings, items moved into containers, memo
      // entries) is charged after the fact: one opcode allocates at most its own string or
      // the items above one MARK (<= kMaxStack pointers), both bounded.
      if (cost_ > 0 && !budget_.TryTake(cost_))
        return Fail(budget_.RefusalMessage(cost_, "pickle value at offset " + std::to_string(at)));
      cost_ = 0;
    }
  }

 private:
  static Status Fail(const std::string& m) { return Status::Error(m); }

  ValuePtr Make(K k) {
    cost_ += kValueCost;
    auto v = std::make_shared<Value>(k);
    made_.push_back(v);
    return v;
  }
  ValuePtr MakeInt(int64_t v) {
    auto p = Make(K::kInt);
    p->i = v;
    return p;
  }
  // Moves `from` onto the end of `to`, charging what the container grows by (its capacity,
  // which doubling makes up to twice its size).
  void AddItems(std::vector<ValuePtr>& to, std::vector<ValuePtr>& from) {
    const size_t before = to.capacity();
    for (auto& v : from) to.push_back(std::move(v));
    cost_ += kItemCost * (to.capacity() - before);
  }

  bool Read(size_t n, const uint8_t** out) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    *out = p_;
    p_ += n;
    return true;
  }
  template <typename T>
  bool ReadLE(T* v) {
    const uint8_t* b;
    if (!Read(sizeof(T), &b)) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < sizeof(T); ++i) x |= uint64_t{b[i]} << (8 * i);
    *v = static_cast<T>(x);
    return true;
  }
  bool ReadLine(std::string* s) {
    const uint8_t* nl = static_cast<const uint8_t*>(std::memchr(p_, '\n', static_cast<size_t>(end_ - p_)));
    if (nl == nullptr) return false;
    s->assign(reinterpret_cast<const char*>(p_), static_cast<size_t>(nl - p_));
    p_ = nl + 1;
    return true;
  }

  Status Pop(ValuePtr* v) {
    const size_t floor = marks_.empty() ? 0 : marks_.back();
    if (stack_.size() <= floor) return Fail("stack underflow");
    *v = std::move(stack_.back());
    stack_.pop_back();
    return Status::Ok();
  }
  Status Top(ValuePtr** v) {
    const size_t floor = marks_.empty() ? 0 : marks_.back();
    if (stack_.size() <= floor) return Fail("stack underflow");
    *v = &stack_.back();
    return Status::Ok();
  }
  // Pops everything above the last MARK, and the mark.
  Status PopMark(std::vector<ValuePtr>* out) {
    if (marks_.empty()) return Fail("no MARK on the stack");
    const size_t m = marks_.back();
    marks_.pop_back();
    if (m > stack_.size()) return Fail("corrupt MARK");
    out->assign(std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(m)), std::make_move_iterator(stack_.end()));
    stack_.resize(m);
    return Status::Ok();
  }
  void Push(ValuePtr v) { stack_.push_back(std::move(v)); }

  Status PushString(size_t n, K kind) {
    const uint8_t* b;
    if (!Read(n, &b)) return Fail("string of " + std::to_string(n) + " bytes runs past the end");
    auto v = Make(kind);
    cost_ += n;
    v->s.assign(reinterpret_cast<const char*>(b), n);
    Push(std::move(v));
    return Status::Ok();
  }

  Status PushTuple(size_t n) {
    if (stack_.size() < n + (marks_.empty() ? 0 : marks_.back())) return Fail("stack underflow");
    auto t = Make(K::kTuple);
    cost_ += kItemCost * n;
    t->items.assign(std::make_move_iterator(stack_.end() - static_cast<std::ptrdiff_t>(n)), std::make_move_iterator(stack_.end()));
    stack_.resize(stack_.size() - n);
    Push(std::move(t));
    return Status::Ok();
  }

  Status SetItems(std::vector<ValuePtr>& kv) {
    if (kv.size() % 2 != 0) return Fail("SETITEMS with an odd number of values");
    ValuePtr* d;
    PCLS_RETURN_IF_ERROR(Top(&d));
    if ((*d)->kind == K::kDict) {
      // Duplicate keys are kept; readers take the last occurrence (as Python would).
      AddItems((*d)->items, kv);
      return Status::Ok();
    }
    if ((*d)->kind == K::kObject) return Status::Ok();  // an opaque object's items: dropped
    return Fail("SETITEM on a non-dict");
  }

  Status Appends(std::vector<ValuePtr>& vals) {
    ValuePtr* l;
    PCLS_RETURN_IF_ERROR(Top(&l));
    if ((*l)->kind == K::kList || (*l)->kind == K::kSet) {
      AddItems((*l)->items, vals);
      return Status::Ok();
    }
    if ((*l)->kind == K::kObject) return Status::Ok();
    return Fail("APPEND on a non-list");
  }

  static bool AsInt(const ValuePtr& v, int64_t* out) {
    if (v->kind != K::kInt) return false;
    *out = v->i;
    return true;
  }
  static bool AsIntTuple(const ValuePtr& v, std::vector<int64_t>* out) {
    if (v->kind != K::kTuple && v->kind != K::kList) return false;
    out->clear();
    for (const auto& e : v->items) {
      int64_t x;
      if (!AsInt(e, &x)) return false;
      out->push_back(x);
    }
    return true;
  }

  Status RebuildTensor(const ValuePtr& args, ValuePtr* out) {
    if (args->kind != K::kTuple || args->items.size() < 4) return Fail("_rebuild_tensor_v2: bad arguments");
    const auto& a = args->items;
    if (a[0]->kind != K::kStorage) return Fail("_rebuild_tensor_v2: first argument is not a storage");
    auto t = Make(K::kTensor);
    t->tensor.storage = a[0]->storage;
    if (!AsInt(a[1], &t->tensor.offset) || t->tensor.offset < 0) return Fail("_rebuild_tensor_v2: bad storage offset");
    if (!AsIntTuple(a[2], &t->tensor.shape) || !AsIntTuple(a[3], &t->tensor.stride)) return Fail("_rebuild_tensor_v2: bad size or stride");
    if (t->tensor.shape.size() != t->tensor.stride.size()) return Fail("_rebuild_tensor_v2: size and stride differ in rank");
    if (t->tensor.shape.size() > 64) return Fail("_rebuild_tensor_v2: rank too large");
    for (size_t i = 0; i < t->tensor.shape.size(); ++i)
      if (t->tensor.shape[i] < 0 || t->tensor.stride[i] < 0) return Fail("_rebuild_tensor_v2: negative size or stride");
    *out = std::move(t);
    return Status::Ok();
  }

  Status Reduce(ValuePtr callable, ValuePtr args) {
    if (callable->kind == K::kGlobal) {
      const std::string& g = callable->s;
      if (g == "collections.OrderedDict" && args->kind == K::kTuple && args->items.empty()) {
        Push(Make(K::kDict));
        return Status::Ok();
      }
      if (g == "torch._utils._rebuild_tensor_v2") {
        ValuePtr t;
        PCLS_RETURN_IF_ERROR(RebuildTensor(args, &t));
        Push(std::move(t));
        return Status::Ok();
      }
      if (g == "torch._utils._rebuild_parameter") {
        if (args->kind != K::kTuple || args->items.empty() || args->items[0]->kind != K::kTensor)
          return Fail("_rebuild_parameter: bad arguments");
        Push(args->items[0]);
        return Status::Ok();
      }
    }
    auto o = Make(K::kObject);  // opaque: never executed
    o->items = {std::move(callable), std::move(args)};
    Push(std::move(o));
    return Status::Ok();
  }

  Status PersistentLoad(const ValuePtr& pid) {
    if (pid->kind != K::kTuple || pid->items.size() != 5) return Fail("bad persistent id (expected a 5-tuple)");
    const auto& a = pid->items;
    if (a[0]->kind != K::kStr || a[0]->s != "storage") return Fail("bad persistent id (not a 'storage')");
    auto s = Make(K::kStorage);
    if (a[1]->kind != K::kGlobal || !StorageDType(a[1]->s, &s->storage.dtype, &s->storage.elem_bytes))
      return Fail("bad persistent id (unsupported storage type" + (a[1]->kind == K::kGlobal ? " " + a[1]->s : std::string()) + ")");
    if (a[2]->kind != K::kStr || a[2]->s.empty() || a[2]->s.size() > 64 || a[2]->s.find('/') != std::string::npos ||
        a[2]->s.find("..") != std::string::npos)
      return Fail("bad persistent id (storage key)");
    s->storage.key = a[2]->s;
    if (!AsInt(a[4], &s->storage.numel) || s->storage.numel < 0 ||
        s->storage.numel > std::numeric_limits<int64_t>::max() / 8)
      return Fail("bad persistent id (element count)");
    Push(std::move(s));
    return Status::Ok();
  }

  Status Step(uint8_t op) {
    switch (op) {
      case 0x80: {  // PROTO
        const uint8_t* b;
        if (!Read(1, &b)) return Fail("truncated PROTO");
        if (*b > 5) return Fail("unsupported pickle protocol " + std::to_string(*b));
        return Status::Ok();
      }
      case 0x95: {  // FRAME: a length hint only
        uint64_t n;
        if (!ReadLE(&n)) return Fail("truncated FRAME");
        return Status::Ok();
      }
      case '(':
        marks_.push_back(stack_.size());
        return Status::Ok();
      case '0': {  // POP
        ValuePtr v;
        return Pop(&v);
      }
      case '1': {  // POP_MARK
        std::vector<ValuePtr> v;
        return PopMark(&v);
      }
      case '2': {  // DUP
        ValuePtr* v;
        PCLS_RETURN_IF_ERROR(Top(&v));
        Push(*v);
        return Status::Ok();
      }
      case 'N': Push(Make(K::kNone)); return Status::Ok();
      case 0x88:
      case 0x89: {
        auto v = Make(K::kBool);
        v->i = op == 0x88;
        Push(std::move(v));
        return Status::Ok();
      }
      case 'J': {
        uint32_t x;
        if (!ReadLE(&x)) return Fail("truncated BININT");
        Push(MakeInt(static_cast<int32_t>(x)));
        return Status::Ok();
      }
      case 'K': {
        uint8_t x;
        if (!ReadLE(&x)) return Fail("truncated BININT1");
        Push(MakeInt(x));
        return Status::Ok();
      }
      case 'M': {
        uint16_t x;
        if (!ReadLE(&x)) return Fail("truncated BININT2");
        Push(MakeInt(x));
        return Status::Ok();
      }
      case 0x8a:    // LONG1
      case 0x8b: {  // LONG4
        uint64_t n = 0;
        if (op == 0x8a) {
          uint8_t n1;
          if (!ReadLE(&n1)) return Fail("truncated LONG1");
          n = n1;
        } else {
          uint32_t n4;
          if (!ReadLE(&n4)) return Fail("truncated LONG4");
          n = n4;
        }
        const uint8_t* b;
        if (!Read(n, &b)) return Fail("long of " + std::to_string(n) + " bytes runs past the end");
        if (n > 8) {  // a big integer: kept opaque
          Push(Make(K::kObject));
          return Status::Ok();
        }
        uint64_t x = 0;
        for (size_t i = 0; i < n; ++i) x |= uint64_t{b[i]} << (8 * i);
        if (n > 0 && n < 8 && (b[n - 1] & 0x80)) x |= ~uint64_t{0} << (8 * n);  // sign-extend
        Push(MakeInt(static_cast<int64_t>(x)));
        return Status::Ok();
      }
      case 'G': {
        const uint8_t* b;
        if (!Read(8, &b)) return Fail("truncated BINFLOAT");
        uint64_t x = 0;
        for (int i = 0; i < 8; ++i) x = (x << 8) | b[i];  // big-endian
        auto v = Make(K::kFloat);
        std::memcpy(&v->f, &x, 8);
        Push(std::move(v));
        return Status::Ok();
      }
      case 'X': {  // BINUNICODE
        uint32_t n;
        if (!ReadLE(&n)) return Fail("truncated BINUNICODE");
        return PushString(n, K::kStr);
      }
      case 0x8c: {  // SHORT_BINUNICODE
        uint8_t n;
        if (!ReadLE(&n)) return Fail("truncated SHORT_BINUNICODE");
        return PushString(n, K::kStr);
      }
      case 0x8d: {  // BINUNICODE8
        uint64_t n;
        if (!ReadLE(&n)) return Fail("truncated BINUNICODE8");
        return PushString(n, K::kStr);
      }
      case 'T': {  // BINSTRING
        uint32_t n;
        if (!ReadLE(&n)) return Fail("truncated BINSTRING");
        return PushString(n, K::kBytes);
      }
      case 'U': {  // SHORT_BINSTRING
        uint8_t n;
        if (!ReadLE(&n)) return Fail("truncated SHORT_BINSTRING");
        return PushString(n, K::kBytes);
      }
      case 'B': {  // BINBYTES
        uint32_t n;
        if (!ReadLE(&n)) return Fail("truncated BINBYTES");
        return PushString(n, K::kBytes);
      }
      case 'C': {  // SHORT_BINBYTES
        uint8_t n;
        if (!ReadLE(&n)) return Fail("truncated SHORT_BINBYTES");
        return PushString(n, K::kBytes);
      }
      case 0x8e: {  // BINBYTES8
        uint64_t n;
        if (!ReadLE(&n)) return Fail("truncated BINBYTES8");
        return PushString(n, K::kBytes);
      }
      case '}': Push(Make(K::kDict)); return Status::Ok();
      case ']': Push(Make(K::kList)); return Status::Ok();
      case ')': Push(Make(K::kTuple)); return Status::Ok();
      case 0x8f: Push(Make(K::kSet)); return Status::Ok();  // EMPTY_SET
      case 't': {
        std::vector<ValuePtr> v;
        PCLS_RETURN_IF_ERROR(PopMark(&v));
        auto t = Make(K::kTuple);
        cost_ += kItemCost * v.size();
        t->items = std::move(v);
        Push(std::move(t));
        return Status::Ok();
      }
      case 0x85: return PushTuple(1);
      case 0x86: return PushTuple(2);
      case 0x87: return PushTuple(3);
      case 'l':
      case 0x91: {  // LIST, FROZENSET
        std::vector<ValuePtr> v;
        PCLS_RETURN_IF_ERROR(PopMark(&v));
        auto t = Make(op == 'l' ? K::kList : K::kSet);
        cost_ += kItemCost * v.size();
        t->items = std::move(v);
        Push(std::move(t));
        return Status::Ok();
      }
      case 'd': {  // DICT
        std::vector<ValuePtr> v;
        PCLS_RETURN_IF_ERROR(PopMark(&v));
        Push(Make(K::kDict));
        return SetItems(v);
      }
      case 's': {  // SETITEM
        std::vector<ValuePtr> kv(2);
        PCLS_RETURN_IF_ERROR(Pop(&kv[1]));
        PCLS_RETURN_IF_ERROR(Pop(&kv[0]));
        return SetItems(kv);
      }
      case 'u': {  // SETITEMS
        std::vector<ValuePtr> kv;
        PCLS_RETURN_IF_ERROR(PopMark(&kv));
        return SetItems(kv);
      }
      case 'a': {  // APPEND
        std::vector<ValuePtr> v(1);
        PCLS_RETURN_IF_ERROR(Pop(&v[0]));
        return Appends(v);
      }
      case 'e':      // APPENDS
      case 0x90: {   // ADDITEMS
        std::vector<ValuePtr> v;
        PCLS_RETURN_IF_ERROR(PopMark(&v));
        return Appends(v);
      }
      case 'q': {
        uint8_t i;
        if (!ReadLE(&i)) return Fail("truncated BINPUT");
        return Put(i);
      }
      case 'r': {
        uint32_t i;
        if (!ReadLE(&i)) return Fail("truncated LONG_BINPUT");
        return Put(i);
      }
      case 0x94: return Put(static_cast<uint32_t>(memo_.size()));  // MEMOIZE
      case 'h': {
        uint8_t i;
        if (!ReadLE(&i)) return Fail("truncated BINGET");
        return Get(i);
      }
      case 'j': {
        uint32_t i;
        if (!ReadLE(&i)) return Fail("truncated LONG_BINGET");
        return Get(i);
      }
      case 'c': {  // GLOBAL "module\nname\n"
        std::string module, name;
        if (!ReadLine(&module) || !ReadLine(&name)) return Fail("truncated GLOBAL");
        auto g = Make(K::kGlobal);
        cost_ += module.size() + name.size();
        g->s = module + "." + name;
        Push(std::move(g));
        return Status::Ok();
      }
      case 0x93: {  // STACK_GLOBAL
        ValuePtr module, name;
        PCLS_RETURN_IF_ERROR(Pop(&name));
        PCLS_RETURN_IF_ERROR(Pop(&module));
        if (module->kind != K::kStr || name->kind != K::kStr) return Fail("STACK_GLOBAL of non-strings");
        auto g = Make(K::kGlobal);
        cost_ += module->s.size() + name->s.size();
        g->s = module->s + "." + name->s;
        Push(std::move(g));
        return Status::Ok();
      }
      case 'R':      // REDUCE
      case 0x81: {   // NEWOBJ
        ValuePtr callable, args;
        PCLS_RETURN_IF_ERROR(Pop(&args));
        PCLS_RETURN_IF_ERROR(Pop(&callable));
        if (args->kind != K::kTuple) return Fail(op == 'R' ? "REDUCE arguments are not a tuple" : "NEWOBJ arguments are not a tuple");
        if (op == 0x81) {  // cls.__new__(cls, *args): always opaque
          auto o = Make(K::kObject);
          o->items = {std::move(callable), std::move(args)};
          Push(std::move(o));
          return Status::Ok();
        }
        return Reduce(std::move(callable), std::move(args));
      }
      case 'b': {  // BUILD: state applied to the object below it
        ValuePtr state, *obj;
        PCLS_RETURN_IF_ERROR(Pop(&state));
        PCLS_RETURN_IF_ERROR(Top(&obj));
        if ((*obj)->kind == K::kObject) {
          std::vector<ValuePtr> one{std::move(state)};
          AddItems((*obj)->items, one);
        }
        // Dicts (an OrderedDict's _metadata), tensors (a Parameter's attributes): ignored.
        return Status::Ok();
      }
      case 'Q': {  // BINPERSID
        ValuePtr pid;
        PCLS_RETURN_IF_ERROR(Pop(&pid));
        return PersistentLoad(pid);
      }
      default: {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "0x%02x", op);
        return Fail(std::string("unsupported pickle opcode ") + buf);
      }
    }
  }

  Status Put(uint32_t i) {
    ValuePtr* v;
    PCLS_RETURN_IF_ERROR(Top(&v));
    if (memo_.size() > kMaxStack && !memo_.count(i)) return Fail("pickle memo too large");
    cost_ += kMemoCost;
    memo_[i] = *v;
    return Status::Ok();
  }
  Status Get(uint32_t i) {
    auto it = memo_.find(i);
    if (it == memo_.end()) return Fail("memo key " + std::to_string(i) + " not defined");
    Push(it->second);
    return Status::Ok();
  }

  const uint8_t* p_;
  const uint8_t* end_;
  const uint8_t* begin_;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, ValuePtr> memo_;
  MemoryBudget& budget_;
  uint64_t cost_ = 0;  // allocated by the current opcode, not yet charged
  std::vector<std::weak_ptr<Value>> made_;
};

}  // namespace

Expected<Unpickled> Unpickle(const uint8_t* data, size_t size, const std::string& name, MemoryBudget& budget) {
  Machine m(data, size, budget);
  auto r = GuardAllocation(name, [&] { return m.Run(); });
  // On failure too, the values made so far may form cycles: an Unpickled breaks them.
  Unpickled result(r.ok() ? *r : nullptr, std::move(m.made()));
  if (!r.ok()) return r.status().WithContext(name);
  return result;
}

Expected<Unpickled> Unpickle(const uint8_t* data, size_t size, const std::string& name) {
  MemoryBudget budget(size);
  return Unpickle(data, size, name, budget);
}

}  // namespace personcls::pth
