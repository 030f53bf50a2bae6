#!/usr/bin/env python3
"""Builds the PyTorch reference fixtures that @lmkit/train's optimizer and precision tests compare against.

test/fixtures/adamw.safetensors — torch.optim.AdamW (β=(0.9, 0.95), eps 1e-8, weight decay 0.1 on >=2-D
  parameters only) with torch.nn.utils.clip_grad_norm_(1.0) for 6 steps on four parameters of different
  ranks, fed fixed float32 gradients (step 2 is large so clipping acts), with the learning rate of each
  step from llm.c's warmup + cosine formula. Stores init.<p>, grad.<k>.<p>, param.<k>.<p>, lr, grad_norm.
test/fixtures/half.safetensors — float32 inputs (random over many binades plus edge cases) and their
  torch casts to bfloat16 and float16 (stored widened back to float32).

Run once (needs torch: `apt-get install -y python3-torch`; not needed in CI):
  /usr/bin/python3 packages/train/scripts/make_fixtures.py
"""
import json
import math
import os
import struct

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')
HP = {'max_lr': 1e-2, 'warmup': 2, 'total': 6, 'final_frac': 0.1, 'beta1': 0.9, 'beta2': 0.95, 'eps': 1e-8,
      'weight_decay': 0.1, 'clip': 1.0, 'steps': 6}


def write_safetensors(path, tensors, metadata=None):
    items = sorted(tensors.items(), key=lambda kv: kv[0])
    header = {}
    if metadata:
        header['__metadata__'] = {k: str(v) for k, v in metadata.items()}
    blobs, offset = [], 0
    for name, t in items:
        data = t.detach().contiguous().float().numpy().tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


def lr_at(step):
    """llm.c's get_learning_rate_cosine."""
    if step < HP['warmup']:
        return HP['max_lr'] * (step + 1) / HP['warmup']
    r = (step - HP['warmup']) / (HP['total'] - HP['warmup'])
    min_lr = HP['max_lr'] * HP['final_frac']
    return min_lr + 0.5 * (1 + math.cos(math.pi * r)) * (HP['max_lr'] - min_lr)


def adamw_fixture():
    g = torch.Generator().manual_seed(2024)
    shapes = {'emb.weight': (10, 4), 'fc.weight': (6, 8), 'fc.bias': (6,), 'norm.weight': (4,)}
    params = {n: torch.nn.Parameter(0.5 * torch.randn(s, generator=g)) for n, s in shapes.items()}
    out = {'init.' + n: p.detach().clone() for n, p in params.items()}
    decay = [p for p in params.values() if p.dim() >= 2]
    no_decay = [p for p in params.values() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': HP['weight_decay']}, {'params': no_decay, 'weight_decay': 0.0}],
                            lr=HP['max_lr'], betas=(HP['beta1'], HP['beta2']), eps=HP['eps'])
    lrs, norms = [], []
    for k in range(HP['steps']):
        scale = 3.0 if k == 2 else 0.05
        for n, p in params.items():
            p.grad = scale * torch.randn(p.shape, generator=g)
            out[f'grad.{k}.{n}'] = p.grad.detach().clone()
        norms.append(float(torch.nn.utils.clip_grad_norm_(list(params.values()), HP['clip'])))
        lr = lr_at(k)
        for group in opt.param_groups:
            group['lr'] = lr
        lrs.append(lr)
        opt.step()
        for n, p in params.items():
            out[f'param.{k}.{n}'] = p.detach().clone()
    out['lr'] = torch.tensor(lrs, dtype=torch.float32)
    out['grad_norm'] = torch.tensor(norms, dtype=torch.float32)
    write_safetensors(os.path.join(OUT, 'adamw.safetensors'), out, {**HP, 'torch': torch.__version__, 'compute': 'float32'})
    print('adamw: lr', lrs, 'grad_norm', norms)


def half_fixture():
    g = torch.Generator().manual_seed(7)
    mant = 1 + torch.rand(4000, generator=g)
    exps = torch.randint(-30, 20, (4000,), generator=g).float()
    signs = torch.where(torch.rand(4000, generator=g) < 0.5, -1.0, 1.0)
    x = signs * mant * torch.pow(2.0, exps)
    edge = torch.tensor([0.0, -0.0, 1 + 2 ** -8, 1 + 3 * 2 ** -8, math.pi, -0.1, 65504, 65519, 65520, 3.4e38, 2 ** -25,
                         2 ** -24, 1.5 * 2 ** -24, 2 ** -14, 2 ** -15 + 2 ** -25, 6e-8, 1e-40, float('inf'), float('-inf')])
    x = torch.cat([x.float(), edge.float()])
    out = {'x': x, 'bf16': x.to(torch.bfloat16).float(), 'f16': x.to(torch.float16).float()}
    write_safetensors(os.path.join(OUT, 'half.safetensors'), out, {'torch': torch.__version__})
    print('half:', x.numel(), 'values')


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    adamw_fixture()
    half_fixture()
