"""distill lays out the editable region tokenizing only the lines the layout reads; the region is still
the student's (Renderer.render_prompt's) on real examples, with the line cache shared across them."""

from __future__ import annotations

import itertools

from zeta2_capture.prompt import Renderer
from zeta2_capture.schema import read_examples
from zeta2_trainer.stages.distill import LineTokens, RegionLayouts
from zeta2_trainer.stages.teacher_prompt import RegionFinder


def test_lazy_region_is_the_students_region(dev_jsonl, train_jsonl, smollm2_tokenizer_json):
    renderer = Renderer.from_file(smollm2_tokenizer_json, "smollm2")
    layouts = RegionLayouts(RegionFinder(smollm2_tokenizer_json))
    examples = [*itertools.islice(read_examples(dev_jsonl), 0, 400, 4), *itertools.islice(read_examples(train_jsonl), 0, 4400, 88)]
    assert len(examples) == 150
    for example in examples:
        layout = renderer.render_prompt(example).layout
        assert layouts.region(example) == (layout.start, layout.end), example.id


def test_line_tokens_counts_each_line_alone(smollm2_tokenizer_json):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(smollm2_tokenizer_json))
    lines = [f"    value_{i} = compute({i}, 'x' * {i})\n" for i in range(200)] + ["\n", "}\n", ""]
    cache: dict[str, int] = {}
    counts = LineTokens(lines, tokenizer, cache)
    assert len(counts) == len(lines)
    assert counts[150] == len(tokenizer.encode(lines[150], add_special_tokens=False).ids)
    assert len(cache) < 60  # only a window around line 150 was tokenized
    assert counts[-2] == len(tokenizer.encode("}\n", add_special_tokens=False).ids)
    assert counts[3:7] == [len(tokenizer.encode(line, add_special_tokens=False).ids) for line in lines[3:7]]
    assert list(counts) == [len(e.ids) for e in tokenizer.encode_batch(lines, add_special_tokens=False)]
