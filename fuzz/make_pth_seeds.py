#!/usr/bin/env python3
"""Writes the .pth seeds of fuzz_pth_state_dict (fuzz/seeds/fuzz_pth_state_dict/): real
torch.save files, small (under 4 KB), so that the fuzzer starts from the zip layout, the
pickle opcodes and the storages PyTorch itself writes. Run with Debian's python3-torch:

    /usr/bin/python3 fuzz/make_pth_seeds.py [fuzz/seeds/fuzz_pth_state_dict]

CI never runs it; the files are committed."""
import collections
import os
import sys

import torch


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'seeds', 'fuzz_pth_state_dict')
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    # A plain state_dict: float weights, an int64 buffer, a view with an offset.
    base = torch.arange(12, dtype=torch.float32)
    sd = collections.OrderedDict()
    sd['conv.weight'] = torch.randn(2, 1, 3, 3)
    sd['norm.num_batches_tracked'] = torch.tensor(3)
    sd['view'] = base[2:8].view(2, 3)
    sd['fuse_conv.bias'] = torch.zeros(2, dtype=torch.float64)
    torch.save(sd, os.path.join(out, 'state_dict.pth'))
    # mmengine's layout: meta, state_dict, optimizer state, opaque objects.
    ck = {'meta': {'epoch': 1, 'dataset_meta': {'classes': ('no_person', 'person')}},
          'state_dict': collections.OrderedDict([('head.fc.weight', torch.randn(2, 4)), ('head.fc.bias', torch.zeros(2))]),
          'optimizer': {'state': {0: {'momentum_buffer': torch.ones(2)}}, 'param_groups': [{'lr': 0.01, 'params': [0]}]},
          'message_hub': {'log': [1.5, 'x', None, True]}}
    torch.save(ck, os.path.join(out, 'mmengine.pth'))
    for name in sorted(os.listdir(out)):
        size = os.path.getsize(os.path.join(out, name))
        assert size < 4096, (name, size)
        torch.load(os.path.join(out, name))
        print('%s: %d bytes' % (name, size))


if __name__ == '__main__':
    main()
