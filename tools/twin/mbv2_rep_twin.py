#!/usr/bin/python3
"""PyTorch twin of personcls's MobileNetV2-Rep trainer (llm.c style).

Defines SSCMA's MobileNetv2(rep=True) person classifier in plain PyTorch (train form with
RepConv1x1 blocks, the deploy form with one fused 3x3 conv per block), and writes small
golden files that the C++ tests read. CI never runs this script; the golden files are
committed. Run it only with Debian's interpreter (python3-torch 1.13):

    /usr/bin/python3 tools/twin/mbv2_rep_twin.py --out tests/golden/twin

Only torch and the standard library are used. docs/pytorch-twin.md describes every file.
"""
import argparse
import collections
import copy
import hashlib
import json
import math
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

BN_EPS = 1e-5
BN_MOMENTUM = 0.1
DEPTH = 6  # 1x1 convs per RepConv1x1 block
# SSCMA's inverted_residual_setting (t, c, n, s); t is unused by the rep blocks.
ROWS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

LR = 0.01
MOMENTUM = 0.9
WEIGHT_DECAY = 1e-4
WARMUP_START = 0.001
WARMUP_ITERS = 30
SGD_STEPS = 20
FUSE_TOLERANCE = 1e-4


def make_divisible(v, divisor=8):
    n = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if n < 0.9 * v:
        n += divisor
    return n


def num_layers(width):
    # SSCMA's out_indices for the presets: (2,) for 0.35, (3,) for 0.5 and 1.0.
    return 3 if width <= 0.35 else 4


# ---------------------------------------------------------------------------------------
# Synthetic tensors: large golden inputs that C++ regenerates instead of reading (keeps the
# golden files small). Exact in float32; see docs/pytorch-twin.md ("Synthetic tensors").

MASK64 = (1 << 64) - 1
SYNTH_UNIT = 0  # r * 2^-24, in [0, 1)
SYNTH_SYM = 1   # (r - 2^23) * 2^(e - 23), in [-2^e, 2^e)


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def synth(shape, kind, stream, e=0):
    """Element i (row-major) from r = splitmix64(stream * 2^32 + i) >> 40 (24 bits)."""
    n = math.prod(shape)
    base = stream << 32
    vals = []
    for i in range(n):
        r = splitmix64(base + i) >> 40
        if kind == SYNTH_UNIT:
            vals.append(math.ldexp(r, -24))
        else:
            vals.append(math.ldexp(r - (1 << 23), e - 23))
    t = torch.tensor(vals, dtype=torch.float64).reshape(shape)
    assert torch.equal(t.float().double(), t)  # exact in float32
    return t.float()


def synth_record(kind, stream, e):
    return torch.tensor([kind, stream, e], dtype=torch.int64)


# ---------------------------------------------------------------------------------------
# The network, train form (module and parameter names as in SSCMA's state_dict)


def batch_norm(c):
    return nn.BatchNorm2d(c, eps=BN_EPS, momentum=BN_MOMENTUM)


class ConvNorm(nn.Module):
    """SSCMA's ConvNormActivation without activation: .conv then .norm."""

    def __init__(self, cin, cout, k, stride, pad, bias):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=pad, bias=bias)
        self.norm = batch_norm(cout)

    def forward(self, x):
        return self.norm(self.conv(x))


class RepConv1x1(nn.Module):
    """SSCMA's RepConv1x1(use_res=True, use_dense=True, depth=6, act ReLU), train form.

    SSCMA also registers `fuse_conv` (a Conv2d that .eval() overwrites with the fused
    weights) in the same module; the twin keeps it out of the train form and builds the
    deploy form separately (DeployNet)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride = stride
        self.conv3x3 = ConvNorm(cin, cout, 3, stride, 1, bias=True)
        self.conv = nn.ModuleList([ConvNorm(cout, cout, 1, 1, 0, bias=True) for _ in range(DEPTH)])
        self.norm = nn.ModuleList([batch_norm(cout) for _ in range(DEPTH)])
        self.dense_norm = batch_norm(cout)

    def forward(self, x):
        x = self.conv3x3(x)
        dense = self.dense_norm(x)
        for i in range(DEPTH):
            y = self.norm[i](x)
            if i > 0:
                y = y + dense  # SSCMA: y = norm[i](x); y += dense_feature
            x = self.conv[i](x) + y  # SSCMA: x = layer(x) + y
        return F.relu(x)


class Backbone(nn.Module):
    def __init__(self, width, gray=False):
        super().__init__()
        c = make_divisible(32 * width)
        self.conv1 = ConvNorm(1 if gray else 3, c, 3, 2, 1, bias=False)
        self.layer_names = []
        for li in range(num_layers(width)):
            _, ch, n, s = ROWS[li]
            out = make_divisible(ch * width) * 2
            blocks = []
            for b in range(n):
                blocks.append(RepConv1x1(c, out, s if b == 0 else 1))
                c = out
            name = 'layer%d' % (li + 1)
            self.add_module(name, nn.Sequential(*blocks))
            self.layer_names.append(name)
        self.out_channels = c

    def forward(self, x):
        x = F.relu6(self.conv1(x))
        for name in self.layer_names:
            x = getattr(self, name)(x)
        return x


class Head(nn.Module):
    def __init__(self, cin, classes):
        super().__init__()
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        # mmcls GlobalAveragePooling: AdaptiveAvgPool2d((1, 1)) then flatten.
        x = F.adaptive_avg_pool2d(x, (1, 1)).flatten(1)
        return self.fc(x)


class MobileNetV2Rep(nn.Module):
    """forward() returns logits; softmax is applied only at inference."""

    def __init__(self, width, classes, gray=False):
        super().__init__()
        self.width = width
        self.backbone = Backbone(width, gray)
        self.head = Head(self.backbone.out_channels, classes)

    def forward(self, x):
        return self.head(self.backbone(x))

    def blocks(self):
        """(layer name, block index, block) in order."""
        for name in self.backbone.layer_names:
            for b, blk in enumerate(getattr(self.backbone, name)):
                yield name, b, blk


def init_weights(model):
    """SSCMA MobileNetv2.init_weights + mmcls LinearClsHead init, in module order."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.01)
            nn.init.zeros_(m.bias)


@torch.no_grad()
def randomize(model, calib):
    """One randomization pass so BN statistics, affines and conv biases are non-trivial.

    1. Every BN: weight ~ U(0.5, 1.5), bias ~ N(0, 0.1); every conv bias ~ N(0, 0.05).
    2. Running statistics, BN by BN in execution order of an eval-mode forward of `calib`:
       mean_c, var_c = the BN input's per-channel mean and biased variance (given the BNs
       before it, already set), then running_mean = mean_c + N(0, 0.1) * sqrt(var_c) and
       running_var = var_c * U(0.5, 1.5). (Plain N(0, 0.1) / U(0.5, 1.5) statistics make the
       eval-mode activations grow ~40x per RepConv1x1 block: the six-step chain sums three
       unnormalized terms per step.)"""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.uniform_(0.5, 1.5)
            m.bias.normal_(0.0, 0.1)
        elif isinstance(m, nn.Conv2d) and m.bias is not None:
            m.bias.normal_(0.0, 0.05)

    def set_stats(bn, inputs):
        x = inputs[0]
        var, mean = torch.var_mean(x, dim=(0, 2, 3), unbiased=False)
        c = mean.numel()
        bn.running_mean.copy_(mean + torch.randn(c) * 0.1 * var.sqrt())
        bn.running_var.copy_(var * torch.empty(c).uniform_(0.5, 1.5))

    hooks = [m.register_forward_pre_hook(set_stats) for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    was_training = model.training
    model.eval()
    model(calib)
    model.train(was_training)
    for h in hooks:
        h.remove()


SYNTH_WEIGHT_STREAM = 100000


def make_model(width, classes=2, seed=0, synth_convs=False):
    """init (seed `seed`) + randomize. With synth_convs every Conv2d weight is replaced,
    before randomize, by synth(SYM, stream 100000 + j, e) where j is the key's index in
    state_dict order and e = round(log2(sqrt(6 / fan_out))) (kaiming-uniform magnitude).
    Returns (model, {key: synth record})."""
    torch.manual_seed(seed)
    model = MobileNetV2Rep(width, classes)
    init_weights(model)
    records = collections.OrderedDict()
    if synth_convs:
        keys = list(model.state_dict().keys())
        with torch.no_grad():
            for name, m in model.named_modules():
                if isinstance(m, nn.Conv2d):
                    key = name + '.weight'
                    fan_out = m.weight.shape[0] * m.weight.shape[2] * m.weight.shape[3]
                    e = round(math.log2(math.sqrt(6.0 / fan_out)))
                    stream = SYNTH_WEIGHT_STREAM + keys.index(key)
                    m.weight.copy_(synth(tuple(m.weight.shape), SYNTH_SYM, stream, e))
                    records[key] = synth_record(SYNTH_SYM, stream, e)
    calib = torch.rand(16, 3, 32, 32)
    randomize(model, calib)
    return model, records


# ---------------------------------------------------------------------------------------
# Deploy form: every BN folded, each RepConv1x1 block one 3x3 conv + ReLU. Computed in
# float64 from the float32 parameters and rounded to float32 once at the end.


def bn_affine(bn):
    """Eval-mode BN as y = a x + b (float64)."""
    s = (bn.running_var.double() + bn.eps).sqrt()
    a = bn.weight.double() / s
    b = bn.bias.double() - a * bn.running_mean.double()
    return a, b


@torch.no_grad()
def fuse_conv_norm(cn):
    """ConvNorm -> (weight, bias) float64, BN folded."""
    a, b = bn_affine(cn.norm)
    w = cn.conv.weight.double() * a.view(-1, 1, 1, 1)
    bias = b if cn.conv.bias is None else a * cn.conv.bias.double() + b
    return w, bias


@torch.no_grad()
def fuse_block(blk):
    """RepConv1x1 -> fused 3x3 (weight OIHW, bias) float64.

    x0 = BN_3x3(conv3x3(in)) = W3' * in + b3'. The 1x1 chain is affine in x0: x_i = P_i x0 + q_i,
    P_0 = I, q_0 = 0; x_{i+1} = M_i x_i + m_i (+ D x0 + d when i > 0) with
    M_i = diag(a_i) C_i + diag(a_id_i), m_i = a_i c_i + b_i + b_id_i (C_i, c_i: 1x1 conv weight
    and bias, (a, b): the BN affines, (D, d) the dense BN). Fused: W = P W3' per tap, b = P b3' + q."""
    w3, b3 = fuse_conv_norm(blk.conv3x3)
    c = w3.shape[0]
    p = torch.eye(c, dtype=torch.float64)
    q = torch.zeros(c, dtype=torch.float64)
    ad, bd = bn_affine(blk.dense_norm)
    for i in range(DEPTH):
        wc, bc = fuse_conv_norm(blk.conv[i])
        ai, bi = bn_affine(blk.norm[i])
        m = wc[:, :, 0, 0] + torch.diag(ai)
        mb = bc + bi
        p = m @ p
        q = m @ q + mb
        if i > 0:
            p = p + torch.diag(ad)
            q = q + bd
    w = torch.einsum('oc,cikl->oikl', p, w3)
    b = p @ b3 + q
    return w, b


@torch.no_grad()
def sscma_rep_float32(blk):
    """SSCMA's own RepConv1x1.rep() algorithm (float32, conv2d-based); cross-check only."""

    def fcn(cn):
        std = (cn.norm.running_var + cn.norm.eps).sqrt()
        t = (cn.norm.weight / std).reshape(-1, 1, 1, 1)
        cb = 0 if cn.conv.bias is None else cn.conv.bias
        return cn.conv.weight * t, cn.norm.bias + (cb - cn.norm.running_mean) * cn.norm.weight / std

    def fbn(bn):
        c = bn.num_features
        w = torch.zeros((c, c, 1, 1), dtype=torch.float32)
        for i in range(c):
            w[i, i, 0, 0] = 1.0
        std = (bn.running_var + bn.eps).sqrt()
        return w * (bn.weight / std).reshape(-1, 1, 1, 1), bn.bias - bn.weight * bn.running_mean / std

    weight, bias = fcn(blk.conv[0])
    nw, nb = fbn(blk.norm[0])
    weight = weight + nw
    bias = bias + nb
    for idx, layer in enumerate(blk.conv[1:]):
        w_, b_ = fcn(layer)
        nw, nb = fbn(blk.norm[idx + 1])
        w_ = w_ + nw
        b_ = b_ + nb
        weight = F.conv2d(weight.transpose(0, 1), w_).transpose(0, 1)
        bias = b_ + (bias.view(1, -1, 1, 1) * w_).sum((3, 2, 1))
        nw, nb = fbn(blk.dense_norm)
        weight = weight + nw
        bias = bias + nb
    w3, b3 = fcn(blk.conv3x3)
    w = F.conv2d(w3.transpose(0, 1), weight).transpose(0, 1)
    b = bias + (weight * b3.view(1, -1, 1, 1)).sum((1, 2, 3))
    return w, b


def fuse_model(model):
    """Deploy weights, float32: dict name -> tensor (stem, blocks, head)."""
    fused = collections.OrderedDict()
    w, b = fuse_conv_norm(model.backbone.conv1)
    fused['conv1.weight'] = w.float()
    fused['conv1.bias'] = b.float()
    for name, bi, blk in model.blocks():
        w, b = fuse_block(blk)
        fused['%s.%d.weight' % (name, bi)] = w.float()
        fused['%s.%d.bias' % (name, bi)] = b.float()
    fused['head.fc.weight'] = model.head.fc.weight.detach().clone()
    fused['head.fc.bias'] = model.head.fc.bias.detach().clone()
    return fused


@torch.no_grad()
def deploy_forward(model, fused, x):
    x = F.relu6(F.conv2d(x, fused['conv1.weight'], fused['conv1.bias'], stride=2, padding=1))
    for name, bi, blk in model.blocks():
        key = '%s.%d' % (name, bi)
        x = F.relu(F.conv2d(x, fused[key + '.weight'], fused[key + '.bias'], stride=blk.stride, padding=1))
    x = F.adaptive_avg_pool2d(x, (1, 1)).flatten(1)
    return F.linear(x, fused['head.fc.weight'], fused['head.fc.bias'])


def deploy_state_dict(model, fused):
    """SSCMA-style deploy state_dict: the stem stays conv + BN (SSCMA never fuses it),
    every block is backbone.layerL.B.fuse_conv.{weight,bias}, then the head."""
    sd = collections.OrderedDict()
    full = model.state_dict()
    for k, v in full.items():
        if k.startswith('backbone.conv1.'):
            sd[k] = v.clone()
    for name, bi, _ in model.blocks():
        sd['backbone.%s.%d.fuse_conv.weight' % (name, bi)] = fused['%s.%d.weight' % (name, bi)].clone()
        sd['backbone.%s.%d.fuse_conv.bias' % (name, bi)] = fused['%s.%d.bias' % (name, bi)].clone()
    sd['head.fc.weight'] = full['head.fc.weight'].clone()
    sd['head.fc.bias'] = full['head.fc.bias'].clone()
    return sd


def sscma_state_dict(model, sd, seed):
    """The state_dict as SSCMA saves it: every RepConv1x1 also holds fuse_conv.{weight,bias},
    registered after dense_norm. SSCMA creates fuse_conv in __init__ and refreshes it from
    the branches only in train(False), so a checkpoint saved before any eval() holds it as
    nn.Conv2d's default init left it: random here (torch.manual_seed(seed)), never the
    fusion. The branches are the truth."""
    out = collections.OrderedDict()
    tails = {}
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        for name, bi, blk in model.blocks():
            conv = blk.conv3x3.conv
            fuse = nn.Conv2d(conv.in_channels, conv.out_channels, 3, stride=blk.stride, padding=1, bias=True)
            tails['backbone.%s.%d.dense_norm.num_batches_tracked' % (name, bi)] = ('backbone.%s.%d.fuse_conv.' % (name, bi), fuse)
    for k, v in sd.items():
        out[k] = v.clone()
        if k in tails:
            prefix, fuse = tails[k]
            out[prefix + 'weight'] = fuse.weight.detach().clone()
            out[prefix + 'bias'] = fuse.bias.detach().clone()
    assert len(tails) == sum(1 for k in out if k.endswith('fuse_conv.weight'))
    return out


# ---------------------------------------------------------------------------------------
# safetensors, written by hand

DTYPES = {torch.float32: ('F32', 'f'), torch.int64: ('I64', 'q'), torch.float64: ('F64', 'd')}


def tensor_bytes(t):
    code, fmt = DTYPES[t.dtype]
    flat = t.detach().contiguous().reshape(-1).tolist()
    return struct.pack('<%d%s' % (len(flat), fmt), *flat)


def write_safetensors(path, tensors, metadata):
    """tensors: ordered list of (name, tensor). Data laid out in that order, no gaps."""
    header = collections.OrderedDict()
    header['__metadata__'] = collections.OrderedDict((str(k), str(v)) for k, v in metadata.items())
    blobs = []
    offset = 0
    names = set()
    for name, t in tensors:
        assert name not in names, name
        names.add(name)
        data = tensor_bytes(t)
        header[name] = collections.OrderedDict(
            [('dtype', DTYPES[t.dtype][0]), ('shape', list(t.shape)), ('data_offsets', [offset, offset + len(data)])])
        blobs.append(data)
        offset += len(data)
    js = json.dumps(header, separators=(',', ':')).encode('utf-8')
    js += b' ' * ((8 - len(js) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(js)))
        f.write(js)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Independent reader for the round-trip check: name -> tensor, metadata."""
    with open(path, 'rb') as f:
        raw = f.read()
    n = struct.unpack('<Q', raw[:8])[0]
    assert n % 8 == 0
    header = json.loads(raw[8:8 + n].decode('utf-8'))
    meta = header.pop('__metadata__', {})
    body = raw[8 + n:]
    out = {}
    end = 0
    for name, h in sorted(header.items(), key=lambda kv: kv[1]['data_offsets'][0]):
        b, e = h['data_offsets']
        assert b == end, (name, b, end)
        end = e
        dt = {'F32': (torch.float32, 'f', 4), 'I64': (torch.int64, 'q', 8), 'F64': (torch.float64, 'd', 8)}[h['dtype']]
        count = math.prod(h['shape'])
        assert e - b == count * dt[2]
        vals = struct.unpack('<%d%s' % (count, dt[1]), body[b:e])
        out[name] = torch.tensor(vals, dtype=dt[0]).reshape(h['shape'])
    assert end == len(body)
    return out, meta


def check_roundtrip(path, tensors):
    got, _ = read_safetensors(path)
    assert set(got.keys()) == set(n for n, _ in tensors)
    for name, t in tensors:
        assert got[name].dtype == t.dtype and torch.equal(got[name], t.detach()), name


# ---------------------------------------------------------------------------------------
# Goldens


def base_metadata(width, seed, **extra):
    m = collections.OrderedDict()
    m['format'] = 'personcls-twin-v1'
    m['generator'] = 'tools/twin/mbv2_rep_twin.py'
    m['torch'] = torch.__version__
    m['arch'] = 'mbv2-rep-%s' % ('0.35' if width == 0.35 else '0.5' if width == 0.5 else '1.0')
    m['width'] = repr(width)
    m['num_classes'] = '2'
    m['seed'] = str(seed)
    m['layout'] = 'NCHW activations, OIHW conv weights, [out,in] linear weights (PyTorch)'
    m['bn_eps'] = repr(BN_EPS)
    m['bn_momentum'] = repr(BN_MOMENTUM)
    for k, v in extra.items():
        m[k] = str(v)
    return m


def params_list(prefix, sd):
    return [(prefix + k, v.detach().clone()) for k, v in sd.items()]


def forward_golden(width, batch, seed, with_grads, with_fused, synth_convs=False):
    """Everything for forward_w*.safetensors. Returns (tensors, model at init, info)."""
    model, records = make_model(width, 2, seed, synth_convs)
    init_sd = copy.deepcopy(model.state_dict())
    x = torch.rand(batch, 3, 32, 32)
    labels = torch.randint(0, 2, (batch,), dtype=torch.int64)
    info = {}

    tensors = []
    for k, v in init_sd.items():
        if k in records:
            tensors.append(('synth.param.' + k, records[k]))
            tensors.append(('synth_sum.param.' + k, v.double().sum().reshape(1)))
        else:
            tensors.append(('param.' + k, v.detach().clone()))
    tensors.append(('input', x.clone()))
    tensors.append(('labels', labels.clone()))

    model.eval()
    with torch.no_grad():
        logits_eval = model(x)
    tensors.append(('logits_eval', logits_eval.clone()))

    if with_fused:
        fused = fuse_model(model)
        logits_deploy = deploy_forward(model, fused, x)
        diff = (logits_deploy - logits_eval).abs().max().item()
        assert diff < FUSE_TOLERANCE, diff
        info['fuse_diff'] = diff
        # Per block: the fused conv vs the train-form block in eval mode, and SSCMA's own
        # float32 rep() vs our float64 fusion.
        with torch.no_grad():
            h = F.relu6(model.backbone.conv1(x))
            worst_block = 0.0
            worst_sscma = 0.0
            for name, bi, blk in model.blocks():
                key = '%s.%d' % (name, bi)
                ref = blk(h)
                got = F.relu(F.conv2d(h, fused[key + '.weight'], fused[key + '.bias'], stride=blk.stride, padding=1))
                worst_block = max(worst_block, (got - ref).abs().max().item())
                ws, bs = sscma_rep_float32(blk)
                worst_sscma = max(worst_sscma, (ws - fused[key + '.weight']).abs().max().item(),
                                  (bs - fused[key + '.bias']).abs().max().item())
                h = ref
        assert worst_block < FUSE_TOLERANCE, worst_block
        info['fuse_block_diff'] = worst_block
        info['sscma_rep_diff'] = worst_sscma
        for k, v in fused.items():
            if not k.startswith('head.'):
                tensors.append(('fused.' + k, v))
        tensors.append(('logits_deploy', logits_deploy.clone()))
        info['fused'] = fused

    model.train()
    model.zero_grad(set_to_none=True)
    logits_train = model(x)
    loss = F.cross_entropy(logits_train, labels)
    loss.backward()
    tensors.append(('logits_train', logits_train.detach().clone()))
    tensors.append(('loss_train', loss.detach().reshape(1).clone()))
    if with_grads:
        for k, p in model.named_parameters():
            tensors.append(('grad.' + k, p.grad.detach().clone()))
        for k, b in model.named_buffers():
            tensors.append(('after.' + k, b.detach().clone()))
    info['logits_eval'] = logits_eval
    info['logits_train'] = logits_train.detach()
    info['loss_train'] = loss.item()
    info['labels'] = labels
    model.eval()
    model.load_state_dict(init_sd)
    return tensors, model, init_sd, info


SYNTH_BATCH_STREAM = 1000


def sgd_golden(init_sd, width, seed):
    model = MobileNetV2Rep(width, 2)
    model.load_state_dict(init_sd)
    gen = torch.Generator().manual_seed(seed)
    batches = []
    for k in range(SGD_STEPS):
        x = synth((8, 3, 32, 32), SYNTH_UNIT, SYNTH_BATCH_STREAM + k)
        y = torch.randint(0, 2, (8,), generator=gen, dtype=torch.int64)
        batches.append((x, y))
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    sched = torch.optim.lr_scheduler.LinearLR(opt, start_factor=WARMUP_START, end_factor=1.0, total_iters=WARMUP_ITERS)
    model.train()
    losses, lrs, step_logits = [], [], []
    for k, (x, y) in enumerate(batches):
        lr = opt.param_groups[0]['lr']
        lrs.append(lr)
        opt.zero_grad(set_to_none=True)
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
        step_logits.append(logits.detach().clone())
    closed = [LR * (WARMUP_START + (1 - WARMUP_START) * k / WARMUP_ITERS) for k in range(SGD_STEPS)]
    lr_diff = max(abs(a - b) for a, b in zip(lrs, closed))
    assert lr_diff < 1e-15, lr_diff

    tensors = params_list('init.', init_sd)
    for k, (x, y) in enumerate(batches):
        tensors.append(('synth.batch.%d.input' % k, synth_record(SYNTH_UNIT, SYNTH_BATCH_STREAM + k, 0)))
        tensors.append(('synth_sum.batch.%d.input' % k, x.double().sum().reshape(1)))
        tensors.append(('batch.%d.labels' % k, y))
    tensors.append(('loss', torch.tensor(losses, dtype=torch.float32)))
    tensors.append(('lr', torch.tensor(lrs, dtype=torch.float64)))
    tensors.append(('step_logits', torch.stack(step_logits)))
    final = model.state_dict()
    tensors += params_list('final.', final)
    pnames = set(n for n, _ in model.named_parameters())
    delta = max((final[k].double() - init_sd[k].double()).abs().max().item() for k in pnames)
    info = {'losses': losses, 'lrs': lrs, 'closed_lrs': closed, 'lr_diff': lr_diff, 'max_delta': delta,
            'model': model, 'batches': batches, 'opt': opt}
    return tensors, info


def mmengine_checkpoint(init_sd, width):
    """torch.save layout of an mmengine checkpoint (meta, state_dict, message_hub, optimizer)."""
    model = MobileNetV2Rep(width, 2)
    model.load_state_dict(init_sd)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    gen = torch.Generator().manual_seed(2)
    x = torch.rand(4, 3, 32, 32, generator=gen)
    y = torch.randint(0, 2, (4,), generator=gen, dtype=torch.int64)
    model.train()
    F.cross_entropy(model(x), y).backward()
    opt.step()  # fills momentum buffers; the saved state_dict is the one from before the step
    meta = collections.OrderedDict()
    meta['cfg'] = ("model = dict(type='sscma.ImageClassifier', backbone=dict(type='MobileNetv2', "
                   "widen_factor=%r, out_indices=(2,), rep=True), neck=dict(type='mmcls.GlobalAveragePooling', dim=2), "
                   "head=dict(type='mmcls.LinearClsHead', num_classes=2, in_channels=32))" % width)
    meta['seed'] = 0
    meta['experiment_name'] = 'personcls_twin'
    meta['time'] = '20240101_000000'
    meta['mmengine_version'] = '0.10.3'
    meta['dataset_meta'] = {'classes': ('no_person', 'person')}
    meta['epoch'] = 1
    meta['iter'] = 1
    return {'meta': meta, 'state_dict': init_sd, 'message_hub': {}, 'optimizer': opt.state_dict()}


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def fmt(t):
    return '[' + ', '.join('%.6f' % v for v in t.reshape(-1).tolist()) + ']'


def load_state(model, g, prefix):
    """Fills model from golden tensors `prefix + key` or their synth records."""
    sd = collections.OrderedDict()
    for k, v in model.state_dict().items():
        if prefix + k in g:
            sd[k] = g[prefix + k]
        else:
            kind, stream, e = g['synth.' + prefix + k].tolist()
            sd[k] = synth(tuple(v.shape), kind, stream, e)
            assert sd[k].double().sum().item() == g['synth_sum.' + prefix + k].item(), k
    model.load_state_dict(sd)


def verify(folder):
    """Rebuilds every result from the golden files alone, as the C++ tests will, and checks
    that it reproduces them bit for bit (same torch, one thread)."""
    g, _ = read_safetensors(os.path.join(folder, 'forward_w035.safetensors'))
    for width, name in ((0.35, 'forward_w035'), (1.0, 'forward_w100')):
        g, meta = read_safetensors(os.path.join(folder, name + '.safetensors'))
        model = MobileNetV2Rep(width, 2)
        load_state(model, g, 'param.')
        x, y = g['input'], g['labels']
        model.eval()
        with torch.no_grad():
            assert torch.equal(model(x), g['logits_eval']), name
        if 'logits_deploy' in g:
            fused = collections.OrderedDict((k[len('fused.'):], v) for k, v in g.items() if k.startswith('fused.'))
            fused['head.fc.weight'] = g['param.head.fc.weight']
            fused['head.fc.bias'] = g['param.head.fc.bias']
            assert torch.equal(deploy_forward(model, fused, x), g['logits_deploy'])
            assert (g['logits_deploy'] - g['logits_eval']).abs().max().item() < FUSE_TOLERANCE
        model.train()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        assert torch.equal(logits.detach(), g['logits_train']) and torch.equal(loss.detach().reshape(1), g['loss_train'])
        n_grads = 0
        for k, p in model.named_parameters():
            if 'grad.' + k in g:
                assert torch.equal(p.grad, g['grad.' + k]), k
                n_grads += 1
        for k, b in model.named_buffers():
            if 'after.' + k in g:
                assert torch.equal(b, g['after.' + k]), k
        print('verify %s: logits, loss, %d grads OK' % (name, n_grads))
    g, _ = read_safetensors(os.path.join(folder, 'sgd20_w035.safetensors'))
    model = MobileNetV2Rep(0.35, 2)
    load_state(model, g, 'init.')
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    model.train()
    for k in range(SGD_STEPS):
        lr = g['lr'][k].item()
        for group in opt.param_groups:
            group['lr'] = lr  # the recorded lr, not a scheduler
        x = synth((8, 3, 32, 32), *g['synth.batch.%d.input' % k].tolist())
        assert x.double().sum().item() == g['synth_sum.batch.%d.input' % k].item()
        opt.zero_grad(set_to_none=True)
        logits = model(x)
        loss = F.cross_entropy(logits, g['batch.%d.labels' % k])
        loss.backward()
        opt.step()
        assert torch.equal(logits.detach(), g['step_logits'][k]) and loss.item() == g['loss'][k].item(), k
    for k, v in model.state_dict().items():
        assert torch.equal(v, g['final.' + k]), k
    print('verify sgd20_w035: 20 steps, final state OK')


def write_sscma_checkpoint(folder):
    """mbv2_rep_w035_sscma.pth: forward_w035's parameters (read from the golden file, so
    that it matches the committed goldens on any machine) in SSCMA's layout, with a
    never-refreshed (random) fuse_conv in every block. Its truth is forward_w035's
    logits_eval; running the stored fuse_conv instead gives other probabilities, which is
    what the C++ test must not do."""
    g, _ = read_safetensors(os.path.join(folder, 'forward_w035.safetensors'))
    model = MobileNetV2Rep(0.35, 2)
    load_state(model, g, 'param.')
    model.eval()
    with torch.no_grad():
        logits = model(g['input'])
    assert (logits - g['logits_eval']).abs().max().item() < 1e-5
    ssd = sscma_state_dict(model, model.state_dict(), seed=7)
    path = os.path.join(folder, 'mbv2_rep_w035_sscma.pth')
    torch.save(ssd, path)
    back = torch.load(path)
    assert list(back) == list(ssd) and all(torch.equal(back[k], ssd[k]) for k in ssd)
    stale = fuse_model(model)
    for name, bi, _ in model.blocks():
        stale['%s.%d.weight' % (name, bi)] = ssd['backbone.%s.%d.fuse_conv.weight' % (name, bi)]
        stale['%s.%d.bias' % (name, bi)] = ssd['backbone.%s.%d.fuse_conv.bias' % (name, bi)]
    p_true = F.softmax(g['logits_eval'], dim=1)
    p_stale = F.softmax(deploy_forward(model, stale, g['input']), dim=1)
    worst = (p_stale - p_true).abs().max().item()
    print('mbv2_rep_w035_sscma.pth: %d entries (%d fuse_conv); max |p(stored fuse_conv) - p(branches)| = %.3f'
          % (len(ssd), sum(k.endswith('fuse_conv.weight') for k in ssd), worst))
    assert worst > 0.01
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default='tests/golden/twin', help='output folder')
    ap.add_argument('--verify', action='store_true', help='only re-check the files in --out')
    ap.add_argument('--sscma-only', action='store_true',
                    help='only (re)write mbv2_rep_w035_sscma.pth from the forward_w035.safetensors in --out')
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    if args.verify:
        verify(args.out)
        return
    if args.sscma_only:
        write_sscma_checkpoint(args.out)
        return
    os.makedirs(args.out, exist_ok=True)
    written = []

    def out(name):
        p = os.path.join(args.out, name)
        written.append(p)
        return p

    # a) forward_w035
    tensors, model035, init035, info = forward_golden(0.35, 4, 0, with_grads=True, with_fused=True)
    meta = base_metadata(0.35, 0, input='[4,3,32,32] uniform [0,1), seed 0 after init+randomize',
                         modes='logits_eval: eval(); logits_train/loss_train/grad/after: train() (batch statistics)')
    path = out('forward_w035.safetensors')
    write_safetensors(path, tensors, meta)
    check_roundtrip(path, tensors)
    print('forward_w035: labels %s' % info['labels'].tolist())
    print('  logits_eval  %s' % fmt(info['logits_eval']))
    print('  logits_train %s' % fmt(info['logits_train']))
    print('  loss_train   %.7f' % info['loss_train'])
    print('  max |logits_deploy - logits_eval| = %.3g, per block max = %.3g, |SSCMA float32 rep - ours| = %.3g'
          % (info['fuse_diff'], info['fuse_block_diff'], info['sscma_rep_diff']))
    n_train = sum(p.numel() for p in model035.parameters())
    print('  train-form parameters: %d; state_dict entries: %d' % (n_train, len(init035)))

    # b) forward_w100 (grads only if the file stays under ~3 MB)
    tensors100, model100, init100, info100 = forward_golden(1.0, 2, 0, with_grads=True, with_fused=False,
                                                            synth_convs=True)
    # Gradients of the (synthetic) conv weights would add 4.7 MB: keep every other gradient.
    synth_keys = set(n[len('synth.param.'):] for n, _ in tensors100 if n.startswith('synth.param.'))
    tensors100 = [(n, t) for n, t in tensors100 if not (n.startswith('grad.') and n[5:] in synth_keys)]
    meta = base_metadata(1.0, 0, input='[2,3,32,32] uniform [0,1), seed 0 after init+randomize',
                         grads='every parameter except the conv weights',
                         synthetic='every conv weight: synth.param.<key> = [kind, stream, e]')
    path = out('forward_w100.safetensors')
    write_safetensors(path, tensors100, meta)
    check_roundtrip(path, tensors100)
    print('forward_w100: labels %s' % info100['labels'].tolist())
    print('  logits_eval  %s' % fmt(info100['logits_eval']))
    print('  logits_train %s' % fmt(info100['logits_train']))
    print('  loss_train   %.7f' % info100['loss_train'])
    print('  train-form parameters: %d' % sum(p.numel() for p in model100.parameters()))

    # c) sgd20_w035
    tensors, sinfo = sgd_golden(init035, 0.35, 1)
    meta = base_metadata(0.35, 0, batches='20 x [8,3,32,32] synthetic (synth.batch.k.input), labels torch.Generator seed 1',
                         optimizer='torch.optim.SGD(lr=0.01, momentum=0.9, dampening=0, weight_decay=1e-4, nesterov=False)',
                         scheduler='LinearLR(start_factor=0.001, end_factor=1.0, total_iters=30), stepped per iteration',
                         loss='cross_entropy mean', mode='train() for all 20 steps')
    path = out('sgd20_w035.safetensors')
    write_safetensors(path, tensors, meta)
    check_roundtrip(path, tensors)
    print('sgd20_w035: loss %s' % ', '.join('%.6f' % v for v in sinfo['losses']))
    print('  lr[0..2] = %r ... lr[19] = %r; max |torch LinearLR - closed form| = %.3g'
          % (sinfo['lrs'][:3], sinfo['lrs'][19], sinfo['lr_diff']))
    print('  max |final - init| over parameters = %.4g' % sinfo['max_delta'])

    # d) checkpoints
    path = out('mbv2_rep_w035.pth')
    torch.save(init035, path)
    path = out('mbv2_rep_w035_mmengine.pth')
    torch.save(mmengine_checkpoint(init035, 0.35), path)
    fused = info['fused']
    dsd = deploy_state_dict(model035, fused)
    path = out('mbv2_rep_w035_deploy.pth')
    torch.save(dsd, path)
    # Load-back checks.
    sd = torch.load(os.path.join(args.out, 'mbv2_rep_w035.pth'))
    assert all(torch.equal(sd[k], init035[k]) for k in init035) and list(sd) == list(init035)
    ck = torch.load(os.path.join(args.out, 'mbv2_rep_w035_mmengine.pth'))
    assert all(torch.equal(ck['state_dict'][k], init035[k]) for k in init035)
    dd = torch.load(os.path.join(args.out, 'mbv2_rep_w035_deploy.pth'))
    assert list(dd) == list(dsd)
    # e) SSCMA's layout with a never-refreshed (random) fuse_conv.
    written.append(write_sscma_checkpoint(args.out))

    verify(args.out)
    print('files:')
    total = 0
    for p in written:
        s = os.path.getsize(p)
        total += s
        print('  %-40s %9d bytes  sha256 %s' % (os.path.basename(p), s, sha256(p)[:16]))
    print('  total %d bytes' % total)


if __name__ == '__main__':
    main()
