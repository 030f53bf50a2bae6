#!/usr/bin/env python3
"""Builds the PyTorch reference fixtures that @lmkit/model and @lmkit/train test against.

Four tiny fixed-seed models written with Hugging Face tensor names and config.json:
  gpt2-tiny/     GPT-2 (LayerNorm, learned positions, GELU-tanh, Conv1D weights stored (in, out), tied lm_head)
  llama-tiny/    LLaMA (RMSNorm, rotate-half RoPE, SwiGLU, GQA 4 query / 2 kv heads, untied lm_head)
  encoder-tiny/  lmkit's EncoderLM (lmkit names; bidirectional, exact GELU, MLM head, tied), targets -100 except ~30%
  mixtral-tiny/  the LLaMA shape with Mixtral MoE layers (4 experts, top-2, renormalized gates); its loss adds
                 router_aux_loss_coef × the sum over layers of E·Σₑ fₑ·Pₑ (Switch), stored as aux_loss
Each directory holds model.safetensors + config.json and reference.safetensors with, for one fixed
batch: input_ids, targets, logits, loss, grad.<param> for every parameter, and the parameters after
3 AdamW steps (adamw.<param>, plus adamw.loss and adamw.grad_norm per step). Everything is computed
in float64 from float32 weights and stored as F32; the hyperparameters are in the __metadata__.

Run once (needs torch, e.g. `apt-get install -y python3-torch`; not needed in CI):
  /usr/bin/python3 packages/model/scripts/make_fixtures.py

Check that directories saved by lmkit's saveModel load into these PyTorch models with strict
state-dict loading and give lmkit's logits (see test/export-check.test.ts, which writes them):
  /usr/bin/python3 packages/model/scripts/make_fixtures.py --check DIR [DIR ...]
"""
import json
import math
import os
import struct

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')
ADAMW = {'lr': 1e-2, 'beta1': 0.9, 'beta2': 0.95, 'eps': 1e-8, 'weight_decay': 0.1, 'clip': 1.0, 'steps': 3}
B, T = 2, 8

DTYPES = {torch.float32: ('F32', 4), torch.int64: ('I64', 8), torch.int32: ('I32', 4)}


def write_safetensors(path, tensors, metadata=None):
    """Writes the safetensors format as the reference writer does (wider dtypes first, then name)."""
    items = sorted(tensors.items(), key=lambda kv: (-DTYPES[kv[1].dtype][1], kv[0]))
    header = {}
    if metadata:
        header['__metadata__'] = {k: str(v) for k, v in metadata.items()}
    blobs, offset = [], 0
    for name, t in items:
        data = t.detach().contiguous().cpu().numpy().tobytes()
        header[name] = {'dtype': DTYPES[t.dtype][0], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
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


class Conv1D(torch.nn.Module):
    """HF GPT-2's Conv1D: y = x @ W + b with W stored (in, out)."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.empty(n_in, n_out))
        self.bias = torch.nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias


class GPT2Block(torch.nn.Module):
    def __init__(self, c, h, eps):
        super().__init__()
        self.n_head = h
        self.ln_1 = torch.nn.LayerNorm(c, eps=eps)
        self.attn = torch.nn.Module()
        self.attn.c_attn = Conv1D(c, 3 * c)
        self.attn.c_proj = Conv1D(c, c)
        self.ln_2 = torch.nn.LayerNorm(c, eps=eps)
        self.mlp = torch.nn.Module()
        self.mlp.c_fc = Conv1D(c, 4 * c)
        self.mlp.c_proj = Conv1D(4 * c, c)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.n_head, c // self.n_head).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(c // self.n_head)
        att = att.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float('-inf')).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, c)
        x = x + self.attn.c_proj(y)
        return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x)), approximate='tanh'))


class GPT2(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c = cfg['n_embd']
        self.transformer = torch.nn.Module()
        self.transformer.wte = torch.nn.Embedding(cfg['vocab_size'], c)
        self.transformer.wpe = torch.nn.Embedding(cfg['n_positions'], c)
        self.transformer.h = torch.nn.ModuleList(GPT2Block(c, cfg['n_head'], cfg['layer_norm_epsilon']) for _ in range(cfg['n_layer']))
        self.transformer.ln_f = torch.nn.LayerNorm(c, eps=cfg['layer_norm_epsilon'])

    def forward(self, ids):
        x = self.transformer.wte(ids) + self.transformer.wpe(torch.arange(ids.shape[1]))
        for block in self.transformer.h:
            x = block(x)
        return self.transformer.ln_f(x) @ self.transformer.wte.weight.T  # tied lm_head


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


class RMSNorm(torch.nn.Module):
    def __init__(self, c, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(c))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


class LlamaLayer(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c, h, kv = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads']
        d = c // h
        self.h, self.kv, self.d, self.theta = h, kv, d, cfg['rope_theta']
        self.input_layernorm = RMSNorm(c, cfg['rms_norm_eps'])
        self.self_attn = torch.nn.Module()
        self.self_attn.q_proj = torch.nn.Linear(c, h * d, bias=False)
        self.self_attn.k_proj = torch.nn.Linear(c, kv * d, bias=False)
        self.self_attn.v_proj = torch.nn.Linear(c, kv * d, bias=False)
        self.self_attn.o_proj = torch.nn.Linear(h * d, c, bias=False)
        self.post_attention_layernorm = RMSNorm(c, cfg['rms_norm_eps'])
        f = cfg['intermediate_size']
        self.n_experts, self.top_k = cfg.get('num_local_experts', 0), cfg.get('num_experts_per_tok', 2)
        if self.n_experts:
            self.block_sparse_moe = torch.nn.Module()
            self.block_sparse_moe.gate = torch.nn.Linear(c, self.n_experts, bias=False)
            self.block_sparse_moe.experts = torch.nn.ModuleList(torch.nn.Module() for _ in range(self.n_experts))
            for e in self.block_sparse_moe.experts:
                e.w1, e.w3, e.w2 = torch.nn.Linear(c, f, bias=False), torch.nn.Linear(c, f, bias=False), torch.nn.Linear(f, c, bias=False)
        else:
            self.mlp = torch.nn.Module()
            self.mlp.gate_proj = torch.nn.Linear(c, f, bias=False)
            self.mlp.up_proj = torch.nn.Linear(c, f, bias=False)
            self.mlp.down_proj = torch.nn.Linear(f, c, bias=False)

    def moe(self, h):
        """Mixtral routing: softmax, top-k, renormalized gates; sets self.aux (Switch load-balancing loss of this layer)."""
        b, t, c = h.shape
        x = h.reshape(-1, c)
        probs = self.block_sparse_moe.gate(x).softmax(-1)
        top_p, top_i = probs.topk(self.top_k, dim=-1)
        gates = top_p / top_p.sum(-1, keepdim=True) if self.top_k > 1 else top_p
        out = torch.zeros_like(x)
        for e, ex in enumerate(self.block_sparse_moe.experts):
            rows, slots = (top_i == e).nonzero(as_tuple=True)
            if len(rows):
                xe = x[rows]
                out = out.index_add(0, rows, ex.w2(F.silu(ex.w1(xe)) * ex.w3(xe)) * gates[rows, slots, None])
        fraction = F.one_hot(top_i, self.n_experts).sum(1).to(x.dtype).mean(0)
        self.aux = self.n_experts * (fraction * probs.mean(0)).sum()
        return out.reshape(b, t, c)

    def forward(self, x):
        b, t, c = x.shape
        a = self.self_attn
        hs = self.input_layernorm(x)
        q = a.q_proj(hs).view(b, t, self.h, self.d).transpose(1, 2)
        k = a.k_proj(hs).view(b, t, self.kv, self.d).transpose(1, 2)
        v = a.v_proj(hs).view(b, t, self.kv, self.d).transpose(1, 2)
        inv_freq = 1.0 / (self.theta ** (torch.arange(0, self.d, 2, dtype=torch.float64) / self.d))
        freqs = torch.outer(torch.arange(t, dtype=torch.float64), inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        rep = self.h // self.kv
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(self.d)
        att = att.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float('-inf')).softmax(-1)
        x = x + a.o_proj((att @ v).transpose(1, 2).reshape(b, t, c))
        h = self.post_attention_layernorm(x)
        if self.n_experts:
            return x + self.moe(h)
        m = self.mlp
        return x + m.down_proj(F.silu(m.gate_proj(h)) * m.up_proj(h))


class Llama(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.model = torch.nn.Module()
        self.model.embed_tokens = torch.nn.Embedding(cfg['vocab_size'], cfg['hidden_size'])
        self.model.layers = torch.nn.ModuleList(LlamaLayer(cfg) for _ in range(cfg['num_hidden_layers']))
        self.model.norm = RMSNorm(cfg['hidden_size'], cfg['rms_norm_eps'])
        self.lm_head = torch.nn.Linear(cfg['hidden_size'], cfg['vocab_size'], bias=False)

    def forward(self, ids):
        x = self.model.embed_tokens(ids)
        for layer in self.model.layers:
            x = layer(x)
        self.aux = sum(layer.aux for layer in self.model.layers) if self.model.layers[0].n_experts else None
        return self.lm_head(self.model.norm(x))


class Encoder(torch.nn.Module):
    """lmkit's EncoderLM with its own parameter names: pre-norm bidirectional blocks, BERT-style MLM head, tied decoder."""

    def __init__(self, cfg):
        super().__init__()
        c, f, v, eps = cfg['hidden_size'], cfg['intermediate_size'], cfg['vocab_size'], cfg['layer_norm_eps']
        self.n_head = cfg['num_attention_heads']
        self.embed = torch.nn.Embedding(v, c)
        self.pos = torch.nn.Embedding(cfg['max_position_embeddings'], c)
        self.blocks = torch.nn.ModuleList()
        for _ in range(cfg['num_hidden_layers']):
            b = torch.nn.Module()
            b.norm1, b.norm2 = torch.nn.LayerNorm(c, eps=eps), torch.nn.LayerNorm(c, eps=eps)
            b.attn = torch.nn.Module()
            b.attn.qkv, b.attn.proj = torch.nn.Linear(c, 3 * c), torch.nn.Linear(c, c)
            b.mlp = torch.nn.Module()
            b.mlp.fc, b.mlp.proj = torch.nn.Linear(c, f), torch.nn.Linear(f, c)
            self.blocks.append(b)
        self.normF = torch.nn.LayerNorm(c, eps=eps)
        self.mlmHead = torch.nn.Module()
        self.mlmHead.dense, self.mlmHead.norm = torch.nn.Linear(c, c), torch.nn.LayerNorm(c, eps=eps)
        self.mlmHead.bias = torch.nn.Parameter(torch.zeros(v))

    def forward(self, ids):
        b_, t, c = ids.shape[0], ids.shape[1], self.embed.weight.shape[1]
        x = self.embed(ids) + self.pos(torch.arange(t))
        for b in self.blocks:
            q, k, v = b.attn.qkv(b.norm1(x)).split(c, dim=2)
            q, k, v = (z.view(b_, t, self.n_head, c // self.n_head).transpose(1, 2) for z in (q, k, v))
            att = ((q @ k.transpose(-2, -1)) / math.sqrt(c // self.n_head)).softmax(-1)  # bidirectional: no mask
            x = x + b.attn.proj((att @ v).transpose(1, 2).reshape(b_, t, c))
            x = x + b.mlp.proj(F.gelu(b.mlp.fc(b.norm2(x))))
        h = self.mlmHead.norm(F.gelu(self.mlmHead.dense(self.normF(x))))
        return h @ self.embed.weight.T + self.mlmHead.bias


def init_weights(model, n_layer, seed):
    """GPT-2 init (N(0, 0.02), residual projections /√(2L)), then norms and biases perturbed so the fixture exercises them."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('norm.weight') or name.endswith('layernorm.weight') or '.ln_' in name and name.endswith('weight') or p.dim() == 1 and name.endswith('weight'):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith('bias'):
                p.copy_(0.02 * torch.randn(p.shape, generator=g))
            else:
                std = 0.02 / math.sqrt(2 * n_layer) if name.endswith(('c_proj.weight', 'o_proj.weight', 'down_proj.weight', 'w2.weight')) else 0.02
                p.copy_(std * torch.randn(p.shape, generator=g))


def loss_fn(model, cfg, ids, targets):
    """Mean next-token cross-entropy, plus router_aux_loss_coef × Σ per-layer load-balancing losses for MoE."""
    loss = F.cross_entropy(model(ids).reshape(-1, cfg['vocab_size']), targets.reshape(-1))
    aux = getattr(model, 'aux', None)
    return loss if aux is None else loss + cfg['router_aux_loss_coef'] * aux


def build_reference(model, cfg, vocab, seed, directory, masked=False):
    os.makedirs(directory, exist_ok=True)
    weights = {k: v.detach().float().clone() for k, v in model.state_dict().items()}
    if 'lm_head.weight' in weights and cfg.get('tie_word_embeddings'):
        del weights['lm_head.weight']
    write_safetensors(os.path.join(directory, 'model.safetensors'), weights, {'format': 'pt'})
    with open(os.path.join(directory, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write('\n')

    model.double()
    g = torch.Generator().manual_seed(seed + 1)
    seq = torch.randint(0, vocab, (B, T + 1), generator=g)
    ids, targets = seq[:, :-1].contiguous(), seq[:, 1:].contiguous()
    if masked:  # masked-LM: predict the input itself at ~30% of positions, -100 elsewhere
        keep = torch.rand(ids.shape, generator=g) < 0.3
        targets = torch.where(keep, ids, torch.full_like(ids, -100))
    logits = model(ids)
    loss = loss_fn(model, cfg, ids, targets)
    loss.backward()
    ref = {'input_ids': ids, 'targets': targets, 'logits': logits.detach().float(), 'loss': loss.detach().float().reshape(())}
    if getattr(model, 'aux', None) is not None:
        ref['aux_loss'] = model.aux.detach().float().reshape(())
    for name, p in model.named_parameters():
        ref['grad.' + name] = p.grad.detach().float()

    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{'params': decay, 'weight_decay': ADAMW['weight_decay']}, {'params': no_decay, 'weight_decay': 0.0}],
        lr=ADAMW['lr'], betas=(ADAMW['beta1'], ADAMW['beta2']), eps=ADAMW['eps'],
    )
    losses, norms = [], []
    model.zero_grad()
    for _ in range(ADAMW['steps']):
        opt.zero_grad()
        step_loss = loss_fn(model, cfg, ids, targets)
        step_loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), ADAMW['clip'])))
        losses.append(float(step_loss))
        opt.step()
    for name, p in model.named_parameters():
        ref['adamw.' + name] = p.detach().float()
    ref['adamw.loss'] = torch.tensor(losses, dtype=torch.float32)
    ref['adamw.grad_norm'] = torch.tensor(norms, dtype=torch.float32)
    meta = {**{'adamw_' + k: v for k, v in ADAMW.items()}, 'batch': B, 'seq_len': T, 'torch': torch.__version__,
            'compute': 'float64', 'adamw_decay': 'parameters with >= 2 dims', 'adamw_batch': 'the same batch every step'}
    write_safetensors(os.path.join(directory, 'reference.safetensors'), ref, meta)
    print(f'{directory}: loss {float(loss):.6f}, after {ADAMW["steps"]} AdamW steps {losses}')


def read_safetensors(path):
    """Reads a safetensors file into float32/int64 torch tensors (F32, F16, BF16, I32, I64)."""
    import numpy as np
    with open(path, 'rb') as f:
        raw = f.read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    body = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        a, b = info['data_offsets']
        kind = info['dtype']
        if kind == 'BF16':
            bits = np.frombuffer(body[a:b], dtype=np.uint16).astype(np.uint32) << 16
            arr = bits.view(np.float32)
        else:
            arr = np.frombuffer(body[a:b], dtype={'F32': np.float32, 'F16': np.float16, 'I32': np.int32, 'I64': np.int64}[kind])
        t = torch.from_numpy(arr.copy()).reshape(info['shape'])
        out[name] = t.float() if t.is_floating_point() else t.long()
    return out


def check(directory):
    with open(os.path.join(directory, 'config.json')) as f:
        cfg = json.load(f)
    model = GPT2(cfg) if cfg['model_type'] == 'gpt2' else Llama(cfg)
    model.load_state_dict(read_safetensors(os.path.join(directory, 'model.safetensors')), strict=True)  # raises on any name or shape mismatch
    ref = read_safetensors(os.path.join(directory, 'check.safetensors'))
    with torch.no_grad():
        logits = model.double()(ref['input_ids'])
    diff = (logits - ref['logits'].double()).abs().max().item()
    print(f'{directory}: {cfg["model_type"]} loads strictly; max |logits - lmkit| = {diff:.2e}')
    if diff > 1e-4:
        raise SystemExit(f'{directory}: logits differ by {diff}')


def main():
    import sys
    if len(sys.argv) > 2 and sys.argv[1] == '--check':
        for directory in sys.argv[2:]:
            check(directory)
        return
    torch.manual_seed(0)
    gpt2_cfg = {
        'model_type': 'gpt2', 'architectures': ['GPT2LMHeadModel'], 'vocab_size': 96, 'n_positions': 16, 'n_embd': 32,
        'n_layer': 2, 'n_head': 4, 'n_inner': None, 'activation_function': 'gelu_new', 'layer_norm_epsilon': 1e-5,
        'resid_pdrop': 0.0, 'embd_pdrop': 0.0, 'attn_pdrop': 0.0, 'initializer_range': 0.02, 'tie_word_embeddings': True,
    }
    gpt2 = GPT2(gpt2_cfg)
    init_weights(gpt2, gpt2_cfg['n_layer'], seed=1234)
    build_reference(gpt2, gpt2_cfg, 96, 1234, os.path.join(OUT, 'gpt2-tiny'))

    llama_cfg = {
        'model_type': 'llama', 'architectures': ['LlamaForCausalLM'], 'vocab_size': 96, 'hidden_size': 32,
        'intermediate_size': 64, 'num_hidden_layers': 2, 'num_attention_heads': 4, 'num_key_value_heads': 2,
        'max_position_embeddings': 16, 'rms_norm_eps': 1e-6, 'rope_theta': 10000.0, 'hidden_act': 'silu',
        'tie_word_embeddings': False, 'attention_bias': False, 'initializer_range': 0.02,
    }
    llama = Llama(llama_cfg)
    init_weights(llama, llama_cfg['num_hidden_layers'], seed=4321)
    build_reference(llama, llama_cfg, 96, 4321, os.path.join(OUT, 'llama-tiny'))

    mixtral_cfg = {
        **llama_cfg, 'model_type': 'mixtral', 'architectures': ['MixtralForCausalLM'], 'intermediate_size': 32,
        'num_local_experts': 4, 'num_experts_per_tok': 2, 'router_aux_loss_coef': 0.02,
    }
    mixtral = Llama(mixtral_cfg)
    init_weights(mixtral, mixtral_cfg['num_hidden_layers'], seed=777)
    with torch.no_grad():  # a sharper router so no token sits near a routing tie
        for layer in mixtral.model.layers:
            layer.block_sparse_moe.gate.weight.mul_(20)
    build_reference(mixtral, mixtral_cfg, 96, 777, os.path.join(OUT, 'mixtral-tiny'))

    encoder_cfg = {
        'model_type': 'lmkit-encoder', 'vocab_size': 96, 'hidden_size': 32, 'num_hidden_layers': 2, 'num_attention_heads': 4,
        'intermediate_size': 64, 'max_position_embeddings': 16, 'layer_norm_eps': 1e-12, 'hidden_act': 'gelu',
        'hidden_dropout_prob': 0.0, 'attention_probs_dropout_prob': 0.0, 'tie_word_embeddings': True,
    }
    encoder = Encoder(encoder_cfg)
    init_weights(encoder, encoder_cfg['num_hidden_layers'], seed=99)
    build_reference(encoder, encoder_cfg, 96, 99, os.path.join(OUT, 'encoder-tiny'), masked=True)


if __name__ == '__main__':
    main()
