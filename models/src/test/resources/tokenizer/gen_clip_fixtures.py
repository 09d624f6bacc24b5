#!/usr/bin/env python3
"""Generates the CLIP tokenizer fixtures used by dev.distillery.models.text.ClipTokenizer*Test.

Outputs (next to this script):
  vocab.json.gz, merges.txt.gz   HF CLIPTokenizer files (49408 tokens, 48894 merges), built from the
                                 original CLIP merges list bpe_simple_vocab_16e6.txt.gz exactly as
                                 open_clip's / OpenAI's SimpleTokenizer builds its vocabulary.
  tokenizer.json.gz              the same vocabulary saved by transformers' CLIPTokenizer (HF tokenizers
                                 format, merges as [a, b] pairs); added tokens marked "normalized": true
                                 as in the hub's openai/clip-vit-* tokenizer files.
  clip_reference_ids.json        expected ids for a list of tricky prompts from two references:
    "openai": open_clip.tokenizer.SimpleTokenizer (a copy of OpenAI's CLIP simple_tokenizer.py) with
              clean='lower' (ftfy.fix_text, html.unescape twice, whitespace collapse, lower-case) and the
              special tokens renamed back to OpenAI's <|startoftext|>/<|endoftext|> (open_clip renamed them
              <start_of_text>/<end_of_text>; the ids 49406/49407 are the same). ids77 come from
              SimpleTokenizer.__call__ (truncate to 77, last = EOT, pad with 0).
    "hf":     transformers.CLIPTokenizer (tokenizers backend) loaded from tokenizer.json: NFC,
              \\s+ -> " ", per-character lower-case, added-token extraction, Split regex, ByteLevel, BPE.
              ids77/mask77 come from tok(text, padding="max_length", max_length=77, truncation=True)
              (pad = <|endoftext|>).
  ../../../main/java/dev/distillery/models/text/ClipTokenizerHtmlEntities.java
                                 Python's html.entities.html5 table as Java source, for the Java port of
                                 html.unescape / ftfy's entity fixer used by the OPENAI cleaning.

The vocabulary agrees with HF's openai/clip-vit-* vocab.json (e.g. "a photo of a cat" ->
49406 320 1125 539 320 2368 49407).

Reproduce (no torch needed: a stub module stands in for torch; numpy backs its zeros/tensor):
  python3 -m venv /tmp/tokvenv
  /tmp/tokvenv/bin/pip install --no-deps open_clip_torch==3.3.0 ftfy==6.3.1 wcwidth regex
  /tmp/tokvenv/bin/pip install transformers==5.18.0 numpy     # pulls tokenizers, huggingface_hub, ...
  /tmp/tokvenv/bin/python gen_clip_fixtures.py
The versions used for the committed fixtures are recorded in clip_reference_ids.json ("references").

Differential check beyond the fixture (output not committed):
  /tmp/tokvenv/bin/python gen_clip_fixtures.py --fuzz 20000 /tmp/clip_fuzz.json
  ./mvnw -q -o -pl tensor,autograd,models test -Dtest=ClipTokenizerReferenceTest -Dclip.fuzz=/tmp/clip_fuzz.json
Each random text is flagged "mojibake" when ftfy's mojibake repair changed it (not reproduced in Java) and
"old_nfc" when the tokenizers library's NFC disagrees with unicodedata's; those are left out of one comparison.
"""
import gzip
import importlib.util
import io
import json
import os
import sys
import tempfile
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CONTEXT = 77


def load_open_clip_tokenizer_module():
    """Imports open_clip/tokenizer.py alone (not the open_clip package, which needs torch)."""
    import transformers  # noqa: F401  (imported before the torch stub, so that it sees no torch)
    spec = importlib.util.find_spec("open_clip")
    pkg_dir = os.path.dirname(spec.origin)
    torch = types.ModuleType("torch")

    class _Any:  # stands in for torch.Tensor / LongTensor in annotations
        pass

    torch.Tensor = torch.LongTensor = _Any
    torch.long = np.int64
    torch.zeros = lambda *shape, dtype=None: np.zeros(shape, dtype=np.int64)
    torch.tensor = lambda x, dtype=None: np.asarray(x, dtype=np.int64)
    torch.__getattr__ = lambda name: _Any
    sys.modules.setdefault("torch", torch)
    mspec = importlib.util.spec_from_file_location("open_clip_tokenizer", os.path.join(pkg_dir, "tokenizer.py"))
    mod = importlib.util.module_from_spec(mspec)
    mspec.loader.exec_module(mod)
    return mod, os.path.join(pkg_dir, "bpe_simple_vocab_16e6.txt.gz")


def openai_reference(mod):
    """open_clip's SimpleTokenizer with OpenAI's special-token spelling (= OpenAI CLIP simple_tokenizer.py)."""
    import regex

    tok = mod.SimpleTokenizer(clean="lower")
    for old, new in (("<start_of_text>", "<|startoftext|>"), ("<end_of_text>", "<|endoftext|>")):
        i = tok.encoder.pop(old)
        tok.encoder[new] = i
        tok.decoder[i] = new
    tok.cache = {"<|startoftext|>": "<|startoftext|>", "<|endoftext|>": "<|endoftext|>"}
    tok.pat = regex.compile(
        r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
        regex.IGNORECASE)
    assert tok.sot_token_id == 49406 and tok.eot_token_id == 49407
    return tok


def build_vocab(bpe_gz):
    """Exactly SimpleTokenizer.__init__: 256 byte chars, the same + '</w>', 48894 merges joined, 2 specials."""
    merges = gzip.open(bpe_gz).read().decode("utf-8").split("\n")
    merges = merges[1:49152 - 256 - 2 + 1]
    merges = [tuple(m.split()) for m in merges]
    import open_clip_tokenizer as m  # noqa: loaded by load_open_clip_tokenizer_module
    vocab = list(m.bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab]
    for merge in merges:
        vocab.append("".join(merge))
    vocab.extend(["<|startoftext|>", "<|endoftext|>"])
    encoder = dict(zip(vocab, range(len(vocab))))
    assert len(encoder) == len(vocab) == 49408
    return encoder, merges


def write_gz(path, data: bytes):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as f:
        f.write(data)
    with open(path, "wb") as f:
        f.write(buf.getvalue())


PROMPTS = [
    "a photo of a cat",
    "A Photo Of A CAT",
    "an astronaut riding a horse on mars, trending on artstation, 4k, highly detailed, octane render",
    "",
    "   ",
    "\n\t\r",
    "hello   world\n\nnew\tline\r\nwindows\rmac",
    "café naïve résumé façade Ångström",
    "Crème brûlée and jalapeño",
    "cafe\u0301 decomposed, e\u0301\u0302 stacked",
    "Z\u0324\u0354\u0367\u0311\u0313a\u0308\u0356\u032d\u0308\u0307lgo",
    "Straße ΣΊΣΥΦΟΣ ΟΔΟΣ İstanbul ǅemal Ĳssel",
    "a cute dog 🐶🐕‍🦺 with a top hat 🎩",
    "👍🏽 thumbs up 👨‍👩‍👧‍👦 family",
    "flags 🇫🇷 🇯🇵 🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
    "東京の夜景、ネオンサイン",
    "一只可爱的猫，坐在窗台上。",
    "고양이 사진",
    "قطة لطيفة",
    "बिल्ली की तस्वीर",
    "แมวน่ารัก",
    "Привет, мир! ЁЖИК",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝓯𝓪𝓷𝓬𝔂 𠀀𠀁",
    "3.14 1,000,000 2024-01-01 50% $100 1e10 v2.0",
    "½ ² ٣٤ ⅷ ① 十",
    "版本2.0 abc123def",
    "it's don't they're we've I'm you'll he'd",
    "IT'S DON'T THEY'RE WE'VE I'M YOU'LL HE'D",
    "it’s don’t ‘single’ “double” „low“",
    "'s's' rock'n'roll o'clock ''quoted'' '",
    "the dog'ſ bone",
    "Tom &amp; Jerry &lt;3 &quot;quoted&quot; &#39;single&#39; &eacute;t&eacute; a&nbsp;b",
    "&amp;amp;lt; &amp;amp;amp;amp; &copy 2024 &notit; &#x1F600; &#128512 &NTILDE; &EACUTE;",
    "&#0; &#128; &#x80; &#55296; &#1114112; &#9999999999; &bogus; &; & amp;",
    "<b>bold</b> &amp; friends &lt;i&gt;",
    "line one &amp;\n<b>line two &amp;</b>\nline three &amp;",
    "wow!!! ... ??? --- (((masterpiece))) [best quality:1.2] {a|b} <lora:foo:0.8> #hashtag @user ~~~ *** ___ ^^",
    "a cat<|endoftext|>a dog",
    "<|startoftext|>hello<|endoftext|>",
    "<|ENDOFTEXT|> and <|StartOfText|>",
    "hello!!<|endoftext|>",
    "<|endoftext|><|endoftext|>",
    "<|endoftext",
    "supercalifragilisticexpialidocious",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "ﬁne ﬂour ﬀ ﬃ ﬆ",
    "ＬＯＵＤ　ＮＯＩＳＥＳ ｶﾀｶﾅ",
    "\x93quoted\x94 \x85 \x80uro",
    "a\x00b\x07c\x1bd\x7fe\ufeff f\u206ag",
    "\x1b[31mred\x1b[0m text",
    "zero\u200bwidth\u200djoiner\u200c",
    "nbsp\u00a0thin\u2009ideo\u3000line\u2028para\u2029nel\x85end",
    "a\x1cb\x1dc\x1ed\x1fe\x0bf\x0cg",
    "\u1f00\u0345 \u1fb3 a\u0345b \u0391\u0345 \u24b6\u24d0 \u2160\u2170",
    ("a highly detailed digital painting of a majestic lion standing on a rocky cliff at sunset, golden hour, "
     "dramatic lighting, volumetric clouds, ultra realistic, 8k resolution, intricate fur texture, by greg "
     "rutkowski and alphonse mucha, concept art, matte painting, sharp focus, cinematic composition, "
     "award winning photograph, national geographic, bokeh background, vibrant colors, masterpiece"),
    " ".join(["word"] * 75),
    " ".join(["word"] * 76),
    " ".join(["word"] * 100),
    "1234567890" * 10,
    "😀 " * 60,
    "Das Mädchen mit dem roten Regenschirm läuft durch die nächtlichen Straßen von Zürich, während "
    "Neonlichter sich in den Pfützen spiegeln; l'atmosphère est à la fois mélancolique et électrique, "
    "comme dans un film noir des années cinquante, 夜の雨、赤い傘、孤独な少女",
    "!" * 200,
    "😀" * 40,
]


JAVA_ENTITIES = os.path.join(HERE, "..", "..", "..", "main", "java", "dev", "distillery", "models", "text",
                             "ClipTokenizerHtmlEntities.java")


def _java_escape(s):
    out = []
    for ch in s:
        o = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif 0x20 <= o < 0x7F:
            out.append(ch)
        elif o > 0xFFFF:
            o -= 0x10000
            out.append("\\u%04x\\u%04x" % (0xD800 + (o >> 10), 0xDC00 + (o & 0x3FF)))
        else:
            out.append("\\u%04x" % o)
    return "".join(out)


def write_java_entities():
    """Writes Python's html.entities.html5 table as Java source (for the OPENAI cleaning's html.unescape)."""
    import html.entities
    entries = sorted(html.entities.html5.items())
    chunks, cur = [], ""
    for name, value in entries:
        cur += _java_escape(name) + "\\u0001" + _java_escape(value) + "\\u0002"
        if len(cur) > 3000:
            chunks.append(cur)
            cur = ""
    chunks.append(cur)
    body = "\n            + ".join('"%s"' % c for c in chunks)
    src = f"""package dev.distillery.models.text;

/**
 * Python {sys.version.split()[0]}'s {{@code html.entities.html5}} table ({len(entries)} names, with and without the
 * trailing semicolon), which {{@code html.unescape}} and ftfy's entity fixer use. Generated by
 * {{@code models/src/test/resources/tokenizer/gen_clip_fixtures.py}}; do not edit.
 */
final class ClipTokenizerHtmlEntities {{
    private ClipTokenizerHtmlEntities() {{}}

    /** Entries {{@code name \\u0001 value \\u0002}}, names sorted. */
    static final String DATA = {body};
}}
"""
    os.makedirs(os.path.dirname(JAVA_ENTITIES), exist_ok=True)
    with open(JAVA_ENTITIES, "w", encoding="ascii") as f:
        f.write(src)


def main():
    import ftfy
    import regex
    import tokenizers
    import transformers
    from importlib.metadata import version

    mod, bpe_gz = load_open_clip_tokenizer_module()
    sys.modules["open_clip_tokenizer"] = mod
    encoder, merges = build_vocab(bpe_gz)
    openai = openai_reference(mod)
    assert openai.encoder == encoder, "vocab.json must be the reference's encoder"

    vocab_json = json.dumps(encoder, ensure_ascii=False).encode("utf-8")
    merges_txt = ("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges)).encode("utf-8")
    write_gz(os.path.join(HERE, "vocab.json.gz"), vocab_json)
    write_gz(os.path.join(HERE, "merges.txt.gz"), merges_txt)

    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "vocab.json"), "wb") as f:
            f.write(vocab_json)
        with open(os.path.join(tmp, "merges.txt"), "wb") as f:
            f.write(merges_txt)
        built = transformers.CLIPTokenizer.from_pretrained(tmp)
        out = os.path.join(tmp, "saved")
        built.save_pretrained(out)
        with open(os.path.join(out, "tokenizer.json"), encoding="utf-8") as f:
            tj = json.load(f)
    for t in tj["added_tokens"]:
        if t["content"] in ("<|startoftext|>", "<|endoftext|>"):
            t["normalized"] = True  # as in the hub's openai/clip-vit-* tokenizer.json
    tj_bytes = json.dumps(tj, ensure_ascii=False, indent=None).encode("utf-8")
    write_gz(os.path.join(HERE, "tokenizer.json.gz"), tj_bytes)
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "tokenizer.json"), "wb") as f:
            f.write(tj_bytes)
        hf = transformers.CLIPTokenizer(tokenizer_file=os.path.join(tmp, "tokenizer.json"))
    assert hf.bos_token_id == 49406 and hf.eos_token_id == 49407 and hf.pad_token_id == 49407
    assert hf.get_vocab() == encoder

    cases = []
    for text in PROMPTS:
        o_ids = [openai.sot_token_id] + openai.encode(text) + [openai.eot_token_id]
        o77 = openai(text, context_length=CONTEXT)[0].tolist()
        h_ids = hf(text)["input_ids"]
        h = hf(text, padding="max_length", max_length=CONTEXT, truncation=True)
        cases.append({
            "text": text,
            "openai": {
                "clean": openai.clean_fn(text),
                "ids": o_ids,
                "ids77": o77,
                "tokens": [openai.decoder[i] for i in o_ids[1:-1]],
            },
            "hf": {
                "ids": h_ids,
                "ids77": h["input_ids"],
                "mask77": h["attention_mask"],
                "tokens": hf.tokenize(text),
                "decoded": hf.decode(h_ids, skip_special_tokens=True),
            },
        })
    fixture = {
        "generator": "models/src/test/resources/tokenizer/gen_clip_fixtures.py",
        "context_length": CONTEXT,
        "references": {
            "openai": ("open_clip_torch %s open_clip/tokenizer.py SimpleTokenizer(clean='lower'), special tokens "
                       "spelled <|startoftext|>/<|endoftext|> as in OpenAI CLIP; ftfy %s, regex %s, python %s"
                       % (version("open_clip_torch"), ftfy.__version__, version("regex"),
                          sys.version.split()[0])),
            "hf": "transformers %s CLIPTokenizer from tokenizer.json.gz, tokenizers %s" % (
                transformers.__version__, tokenizers.__version__),
        },
        "cases": cases,
    }
    with open(os.path.join(HERE, "clip_reference_ids.json"), "w", encoding="utf-8") as f:
        head = {k: v for k, v in fixture.items() if k != "cases"}
        f.write(json.dumps(head, ensure_ascii=True, indent=1)[:-2] + ',\n "cases": [\n')
        f.write(",\n".join("  " + json.dumps(c, ensure_ascii=True) for c in cases))
        f.write("\n ]\n}\n")
    write_java_entities()
    differing = sum(1 for c in cases if c["openai"]["ids"] != c["hf"]["ids"])
    print(f"{len(cases)} prompts, {differing} where the two references differ")


FUZZ_POOLS = [
    "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "      \t\n\r", "'sS'tT'reRE've'm'll'dD", "éèêëàâäôöûüçñÅåøßÉÈ", "\u0301\u0300\u0302\u0308\u0327\u0345",
    "αβγδεσςΣΩΊΆΐ", "абвгдЁЖЙ", "東京夜景猫犬山川", "ひらがなカタカナ", "고양이사진", "ＡＢＣａｂｃ１２３！？　ｶﾀ",
    "😀👍🏽🐶🎩🇫🇷\u200d", "\x00\x07\x1b\x1c\x1f\x7f\x80\x85\x93\x94\x9d\xa0\xad",
    "\u200b\u200c\u200e\u2028\u2029\u3000\ufeff\u2009\u202f", "İıſKÅ\u1e9e",
    "ﬁﬂﬀĲǅ", "‘’“”„‹›«»′″", "ΣΣΣσΑαΌ'.:·\u0301\u02b0\u00ad\u2019 ", "𝔘𝔫𝓯𝓪𠀀𠀁", "बिल्लीकीतस्वीर", "แมวน่ารัก", "قطةلطيفة", "½²٣ⅷ①十",
]
FUZZ_WORDS = ["&amp;", "&lt;", "&gt", "&#39;", "&#x41;", "&#128;", "&quot", "&eacute;", "&NTILDE;", "&notit;",
              "&amp;amp;", "&", ";", "#", "<|endoftext|>", "<|startoftext|>", "<|ENDOFTEXT|>", "\x1b[31m",
              "photo", "cat", "don't", "it's", " ", "  ", "\n", "<b>", "3.14", "1,000"]


def fuzz(n, path):
    """Random texts with both references' ids, to compare an implementation beyond the fixture (not committed)."""
    import random
    import unicodedata
    mod, bpe_gz = load_open_clip_tokenizer_module()
    sys.modules["open_clip_tokenizer"] = mod
    openai = openai_reference(mod)
    import transformers
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "tokenizer.json"), "wb") as f:
            f.write(gzip.open(os.path.join(HERE, "tokenizer.json.gz")).read())
        hf = transformers.CLIPTokenizer(tokenizer_file=os.path.join(tmp, "tokenizer.json"))
    rnd = random.Random(1234)
    out = []
    for i in range(n):
        parts = []
        for _ in range(rnd.randint(0, 12)):
            r = rnd.random()
            if r < 0.55:
                pool = rnd.choice(FUZZ_POOLS)
                parts.append("".join(rnd.choice(pool) for _ in range(rnd.randint(1, 6))))
            elif r < 0.85:
                parts.append(rnd.choice(FUZZ_WORDS))
            else:
                while True:
                    cp = rnd.randint(0x20, 0x2FFFF) if rnd.random() < 0.8 else rnd.randint(0x80, 0x3000)
                    if not (0xD800 <= cp < 0xE000) and unicodedata.category(chr(cp)) not in ("Cn", "Cs", "Co"):
                        break
                parts.append(chr(cp))
        text = "".join(parts)
        import ftfy
        from tokenizers import normalizers
        out.append({"text": text,
                    "mojibake": ftfy.fix_text(text) != ftfy.fix_text(text, fix_encoding=False),
                    "old_nfc": normalizers.NFC().normalize_str(text) != unicodedata.normalize("NFC", text),
                    "openai": [openai.sot_token_id] + openai.encode(text) + [openai.eot_token_id],
                    "hf": hf(text)["input_ids"]})
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--fuzz":
        fuzz(int(sys.argv[2]), sys.argv[3])
    else:
        main()
