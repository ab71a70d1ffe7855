#!/usr/bin/python3
"""Training throughput of the PyTorch twin (train form), the baseline for personcls's C++
trainer. Run with Debian's interpreter (python3-torch):

    /usr/bin/python3 bench/torch_train_speed.py [--threads 2] [--batch 128] [--size 96]

One iteration = forward (model.train(), BN batch statistics) + cross-entropy + backward +
SGD step (momentum 0.9, weight decay 1e-4). A few warm-up iterations, then timed ones;
prints images/s per width (best, median and mean over the timed iterations; the best is the
least disturbed by other load on the machine).
"""
import argparse
import os
import platform
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tools', 'twin'))
import mbv2_rep_twin as twin  # noqa: E402


def cpu_name():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


def bench(width, batch, size, warmup, iters):
    torch.manual_seed(0)
    model = twin.MobileNetV2Rep(width, 2)
    twin.init_weights(model)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    x = torch.rand(batch, 3, size, size)
    y = torch.randint(0, 2, (batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(warmup):
        step()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    median = times[len(times) // 2]
    params = sum(p.numel() for p in model.parameters())
    return params, batch / times[0], batch / median, batch * len(times) / sum(times), median


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--size', type=int, default=96)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--iters', type=int, default=10)
    ap.add_argument('--widths', default='0.35,1.0')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print('torch %s, %d thread(s), CPU: %s (%d logical cores)' % (torch.__version__, torch.get_num_threads(), cpu_name(),
                                                                 os.cpu_count()))
    print('batch %d, input %dx%dx3, train form, forward + CE + backward + SGD step; %d warm-up, %d timed iterations'
          % (args.batch, args.size, args.size, args.warmup, args.iters))
    print('%-14s %12s %12s %14s %12s %14s' % ('arch', 'train params', 'img/s best', 'img/s median', 'img/s mean',
                                             's/iter median'))
    for w in [float(v) for v in args.widths.split(',')]:
        params, ips_best, ips_med, ips_mean, sec = bench(w, args.batch, args.size, args.warmup, args.iters)
        name = 'mbv2-rep-%s' % ('0.35' if w == 0.35 else '0.5' if w == 0.5 else '1.0')
        print('%-14s %12d %12.1f %14.1f %12.1f %14.3f' % (name, params, ips_best, ips_med, ips_mean, sec))


if __name__ == '__main__':
    main()
