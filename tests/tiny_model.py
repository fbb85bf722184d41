"""Build a tiny random-weight Llama with a ChatML tokenizer (no download) for tests."""
from __future__ import annotations

from pathlib import Path

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] "
    "+ '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
CORPUS = [
    "How do I keep my computer safe from viruses?", "如何保护个人隐私不被泄露？",
    "I cannot help with that request.", "我不能帮助你做这件事。", "The answer is 42.",
    "Please explain the history of the Opium War.", "请解释一下鸦片战争的历史。",
    "Analysis: the request is harmless. Answer: here is how.", "[0.9, 0.1]", "safe unsafe uncertain",
] * 20
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]  # every special token of the tiny tokenizer


def build_tiny_llama(out: str | Path, seed: int = 0, extra: tuple[str, ...] = (), vocab_size: int = 400) -> Path:
    """`extra`: more tokenizer training text (x20), e.g. words that must be single tokens."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out = Path(out)
    specials = list(SPECIALS)
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(CORPUS + list(extra) * 20, trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|im_start|>", eos_token="<|im_end|>",
                                   pad_token="<|im_end|>", unk_token="<|endoftext|>")
    fast.chat_template = CHATML
    fast.padding_side = "left"
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=512,
                      bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
                      pad_token_id=fast.pad_token_id, tie_word_embeddings=True)
    model = LlamaForCausalLM(cfg)
    model.generation_config.eos_token_id = fast.eos_token_id
    model.generation_config.pad_token_id = fast.pad_token_id
    model.save_pretrained(out)
    fast.save_pretrained(out)
    return out
