"""The prose builder on small inline prose (written for these tests; the Debian packages are not needed):
cleaning of fortune and GCIDE records, the writer's errors and degradations, and the isolation of the
train/eval files the builder writes."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from pushkin.training.data import shingles
from pushkin.training.degrade import DEGRADATIONS, GRAMMAR_RULES, degrade, grammar_errors
from pushkin.training.prose_corpus import Passage, clean_record, deduplicate, gcide_passages, parse_fortune_file
from pushkin.training.prose_pairs import BuildOptions, build
from pushkin.training.reward_proof import bootstrap_accuracy
from pushkin.training.train_reward import accuracy_by_group, read_pairs

EN = [
    "The ferry left the harbour an hour late because the captain was looking for his hat.",
    "Nobody in the village had ever seen a letter travel faster than the baker's gossip.",
    "She kept the old clock on the shelf, although it had not told the time for years.",
    "A good map is one that admits where the roads are still unfinished.",
    "His garden was full of tomatoes that the neighbours were too polite to refuse.",
    "The library closes early on Fridays, which is exactly when everyone needs a book.",
    "We argued about the bridge until the river itself seemed tired of listening.",
    "Their dog has learned to open the gate, and it never closes it behind him.",
    "My grandmother wrote her recipes in pencil so that she could change her mind.",
    "The train was crowded, but a small boy gave his seat to the oldest passenger.",
    "It is easier to praise a plan than to carry a single brick for it.",
    "The snow covered the town so quietly that the morning seemed to forget its noise.",
    "Every committee has one member who reads the minutes and finds an error.",
    "The teacher does not like long answers, so we learned to write short ones.",
    "He painted the fence blue and then wondered why the birds had gone away.",
    "A story that begins in the rain usually ends with somebody drying their shoes.",
]
RU = [
    "Паром отошёл от пристани с опозданием, потому что капитан искал свою шляпу.",
    "Никто в деревне не видел, чтобы письмо летело быстрее, чем слухи пекаря.",
    "Она держала старые часы на полке, хотя они давно не показывали время.",
    "Хорошая карта честно признаёт, что некоторые дороги ещё не достроены.",
    "Его сад был полон помидоров, от которых соседи из вежливости не отказывались.",
    "Библиотека закрывается рано по пятницам, когда всем как раз нужна книга.",
    "Мы спорили о мосте, пока сама река не устала нас слушать.",
    "Их собака научилась открывать калитку, но никогда её не закрывает.",
    "Бабушка писала рецепты карандашом, чтобы можно было передумать.",
    "Поезд был переполнен, но маленький мальчик уступил место старику.",
    "Хвалить план легче, чем принести для него хотя бы один кирпич.",
    "Снег укрыл город так тихо, что утро будто забыло про шум.",
    "В каждой комиссии есть человек, который читает протокол и находит ошибку.",
    "Учитель не любит длинных ответов, и мы научились писать коротко.",
    "Кто-то покрасил забор в синий цвет, и птицы почему-то улетели.",
    "Он не знает, как начинается новая история, но хочет её услышать.",
]


def inline_passages(sources_per_language: int = 6, per_source: int = 6) -> list[Passage]:
    """Two-sentence passages from the sentences above, each pair once, spread over several sources."""
    passages = []
    for language, pool in (("en", EN), ("ru", RU)):
        k = 0
        for s in range(sources_per_language):
            for _ in range(per_source):
                # (i, i + 1), then (i, i + 2), ...: every pair distinct.
                first, second = pool[k % len(pool)], pool[(k + 1 + k // len(pool)) % len(pool)]
                k += 1
                if first != second:
                    passages.append(Passage(f"{first} {second}", f"{language}-file-{s}", language))
    return passages


# ----------------------------------------------------------------------------------------------------------
# Cleaning


def test_fortune_records_keep_prose_and_drop_attributions_verse_and_dialogue(tmp_path):
    fortune = tmp_path / "sample"
    fortune.write_text(
        "A plan written on a napkin is still a plan,\nonly easier to lose.\n\t\t-- Somebody Wise\n%\n"
        "Roses are red,\nViolets are blue,\nThis is a verse,\nAnd short lines too.\n%\n"
        "Q: Why did the cat sit there?\nA: Because it could.\n%\n"
        "Too short.\n%\n"
        "Книга — это разговор, который не кончается,\nпока её читают.\n\t\t-- Неизвестный автор\n%\n",
        encoding="utf-8")
    english = parse_fortune_file(fortune, "fortunes/sample", "en")
    assert [p.text for p in english] == ["A plan written on a napkin is still a plan, only easier to lose."]
    russian = parse_fortune_file(fortune, "fortunes-ru/sample", "ru")
    assert [p.text for p in russian] == ["Книга — это разговор, который не кончается, пока её читают."]
    assert russian[0].language == "ru" and russian[0].source == "fortunes-ru/sample"


def test_a_record_in_the_other_language_or_with_markup_is_not_prose():
    assert clean_record("This sentence is written in plain English prose.", "ru") is None
    assert clean_record("Run `make install` and then type the command again.", "en") is None


def test_gcide_citations_are_read_with_their_headword_letter():
    lines = [
        "Harbor \\Har\"bor\\, n.\n",
        "   A port for ships.\n",
        "   [1913 Webster]\n",
        "\n",
        "            The ships lay quietly in the harbor all the long\n",
        "            winter, waiting for the ice to break.  --Irving.\n",
        "            A fragment.                                --Shak.\n",
        "            R. For now he is king. W. Not for long.    --Shak.\n",
    ]
    found = list(gcide_passages(lines))
    assert found == [Passage("The ships lay quietly in the harbor all the long winter, waiting for the ice to break.",
                             "gcide/h", "en")]


def test_exact_repeats_are_removed_once_whatever_their_case_and_punctuation():
    passages = [Passage("The same old line, again.", "a", "en"), Passage("the same old line again!", "b", "en"),
                Passage("Another line entirely.", "b", "en")]
    unique, removed = deduplicate(passages)
    assert removed == 1 and [p.source for p in unique] == ["a", "b"]


# ----------------------------------------------------------------------------------------------------------
# Damage


@pytest.mark.parametrize("language, pool", [("en", EN), ("ru", RU)])
def test_every_degradation_changes_the_text_and_none_applies_where_it_cannot(language, pool):
    rng = random.Random(0)
    for kind in DEGRADATIONS:
        changed = [degrade(text, language, kind, rng) for text in pool]
        applied = [(t, c) for t, c in zip(pool, changed) if c is not None]
        assert applied, (kind, language)
        assert all(c != t for t, c in applied), kind
    assert degrade("Hi.", language, "truncated", rng) is None
    with pytest.raises(ValueError, match="unknown degradation"):
        degrade(pool[0], language, "mangled", rng)


def test_each_degradation_does_what_its_label_says():
    rng = random.Random(1)
    text = "The old captain was looking for his hat near the harbour."
    assert sorted(degrade(text, "en", "word_order", rng).split()) == sorted(text.split())
    assert len(degrade(text, "en", "dropped_word", rng).split()) == len(text.split()) - 1
    assert len(degrade(text, "en", "duplicated_word", rng).split()) == len(text.split()) + 1
    assert degrade(text, "en", "broken_agreement", rng) == "The old captain were looking for his hat near the harbour."
    cut = degrade(text, "en", "truncated", rng)
    assert text.startswith(cut) and not cut.endswith(".")
    assert degrade("Старый капитан искал новую шляпу.", "ru", "broken_agreement", rng) in (
        "Старая капитан искал новую шляпу.", "Старый капитан искал новый шляпу.")


def test_russian_writer_errors_are_the_ones_russian_writers_make():
    rng = random.Random(0)
    rules = GRAMMAR_RULES["ru"]
    assert rules["tsya"]("Ему хочется уйти.", rng) == "Ему хочеться уйти."
    assert rules["ne_fused"]("Он не знает, где ключ.", rng) == "Он незнает, где ключ."
    assert rules["hyphen"]("Кто-то пришёл.", rng) == "Кто то пришёл."
    assert rules["comma"]("Я знаю, что он придёт.", rng) == "Я знаю что он придёт."
    damage = grammar_errors(RU[1], "ru", rng, count=2)
    assert damage is not None and damage.text != RU[1] and len(damage.kind.split("+")) == 2


def test_english_writer_errors_are_labelled_and_fall_back_to_a_doubled_word():
    rng = random.Random(0)
    assert GRAMMAR_RULES["en"]["article"]("She ate an apple.", rng) == "She ate a apple."
    assert GRAMMAR_RULES["en"]["homophone"]("Their house is big.", rng) == "There house is big."
    damage = grammar_errors("Quiet rivers run deep.", "en", rng)
    assert damage is not None and damage.kind == "doubled_word" and damage.text != "Quiet rivers run deep."


# ----------------------------------------------------------------------------------------------------------
# The builder


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("prose")
    passages = inline_passages()
    # One near-copy of a sentence pair in every source (one word differs): whichever sources the split
    # holds out, the copies on the train side nearly duplicate an eval passage and must go.
    for language, pool in (("en", EN), ("ru", RU)):
        base = f"{pool[0]} {pool[2]}"
        for s in range(6):
            passages.append(Passage(base[:-1] + f" {s}{'.' if language == 'en' else '.'}", f"{language}-file-{s}",
                                    language))
    report = build(passages, out, BuildOptions(eval_fraction=0.34, max_gcide=0, clean_share=0.2))
    return out, report


def test_the_builder_writes_every_task_for_both_languages(built):
    out, report = built
    for task in ("continue", "fix_grammar", "reward"):
        for split in ("train", "eval"):
            records = _records(out / task / f"{split}.jsonl")
            assert {r["language"] for r in records} == {"en", "ru"}, (task, split)
    assert json.loads((out / "report.json").read_text())["tasks"] == report["tasks"]
    assert "rephrase" in report["left_out"] and "translate_en" in report["left_out"]


def test_no_eval_source_reaches_any_training_file(built):
    out, _ = built
    eval_sources = {r["source"] for task in ("continue", "fix_grammar", "reward")
                    for r in _records(out / task / "eval.jsonl")}
    train_sources = {r["source"] for task in ("continue", "fix_grammar", "reward")
                     for r in _records(out / task / "train.jsonl")}
    assert eval_sources and train_sources and not eval_sources & train_sources


def test_near_duplicates_of_eval_passages_are_dropped_from_train_and_counted(built):
    out, report = built
    assert sum(s["near_duplicates_dropped"] for s in report["split"].values()) >= 2
    eval_texts = [shingles(r["chosen"]) for r in _records(out / "reward" / "eval.jsonl")]
    for r in _records(out / "reward" / "train.jsonl"):
        mine = shingles(r["chosen"])
        assert all(len(mine & other) / len(mine | other) < 0.8 for other in eval_texts), r["chosen"]


def test_continue_pairs_are_a_passage_and_its_next_sentence(built):
    out, _ = built
    for r in _records(out / "continue" / "train.jsonl"):
        assert r["completion"].startswith(" ") and r["completion"].strip() in EN + RU
        assert r["prompt"].strip() in EN + RU  # two-sentence passages: the first sentence is the context


def test_fix_grammar_pairs_map_a_damaged_text_to_the_original(built):
    out, report = built
    records = _records(out / "fix_grammar" / "train.jsonl")
    damaged = [r for r in records if r["errors"] != "none"]
    clean = [r for r in records if r["errors"] == "none"]
    assert damaged and clean
    assert all(r["input"] != r["completion"] and r["prompt"].endswith(":\n") for r in damaged)  # Result: / Результат:
    assert all(r["input"] == r["completion"] for r in clean)
    assert all(f"\n{r['input']}\n" in r["prompt"] for r in records)
    assert set(report["tasks"]["fix_grammar"]["errors"]) - {"none"} <= set(GRAMMAR_RULES["en"]) | set(GRAMMAR_RULES["ru"])


def test_reward_pairs_are_labelled_and_come_with_both_references(built):
    out, _ = built
    records = _records(out / "reward" / "train.jsonl")
    assert all(r["chosen"] != r["rejected"] and r["kind"] in DEGRADATIONS for r in records)
    by_passage: dict[tuple[str, str], set[str]] = {}
    for r in records:
        assert r["original"] == (r["rejected"] if r["reference"] == "degraded" else r["chosen"])
        by_passage.setdefault((r["source"], r["chosen"]), set()).add(r["reference"])
    assert all(refs == {"degraded", "human"} for refs in by_passage.values())
    assert len({r["kind"] for r in records}) >= 5
    pairs = read_pairs(str(out / "reward" / "train.jsonl"))
    assert len(pairs) == len(records) and dict(pairs[0].labels)["kind"] == records[0]["kind"]


# ----------------------------------------------------------------------------------------------------------
# The reward's reading and reporting


def test_read_pairs_takes_the_edited_form_and_the_chosen_rejected_form(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps({"original": "A b.", "edited": "A c."}) + "\n"
                    + json.dumps({"original": "X.", "chosen": "Y.", "rejected": "Z.", "kind": "filler"}) + "\n")
    first, second = read_pairs(str(path))
    assert (first.chosen, first.rejected, first.labels) == ("A c.", "A b.", ())
    assert (second.chosen, second.rejected, second.labels) == ("Y.", "Z.", (("kind", "filler"),))
    path.write_text(json.dumps({"original": "X.", "chosen": "Y."}) + "\n")
    with pytest.raises(ValueError, match="chosen"):
        read_pairs(str(path))


def test_accuracy_is_broken_down_by_each_label():
    pairs = read_pairs_from([("filler", "en"), ("filler", "ru"), ("truncated", "en"), ("truncated", "en")])
    by = accuracy_by_group(pairs, [1.0, -1.0, 0.0, 2.0])
    assert by["kind"] == {"filler": 0.5, "truncated": 0.75}
    assert by["language"] == {"en": pytest.approx(2.5 / 3), "ru": 0.0}


def read_pairs_from(labels):
    from pushkin.training.train_reward import PreferencePair

    return [PreferencePair("o", "c", "r", f"s{i}", (("kind", k), ("language", lang)))
            for i, (k, lang) in enumerate(labels)]


def test_bootstrap_interval_resamples_whole_passages():
    perfect = bootstrap_accuracy([1.0] * 10, [f"p{i // 2}" for i in range(10)])
    assert perfect["accuracy"] == 1.0 and perfect["ci95"] == [1.0, 1.0] and perfect["passages"] == 5
    # Each passage right once and wrong once: accuracy exactly 0.5 in every resample.
    even = bootstrap_accuracy([1.0, -1.0] * 20, [f"p{i // 2}" for i in range(40)])
    assert even["accuracy"] == 0.5 and even["ci95"] == [0.5, 0.5] and even["above_chance"] == 0.0
    mixed = bootstrap_accuracy([1.0, 1.0, 1.0, -1.0] * 25, [f"p{i}" for i in range(100)])
    assert mixed["ci95"][0] < 0.75 < mixed["ci95"][1]


def test_the_proofs_style_profile_holds_no_text_the_reward_trains_on(tmp_path):
    from pushkin.text.units import paragraphs
    from pushkin.training.data import read_corpus
    from pushkin.training.reward_proof import write_profile_corpus

    out = tmp_path / "data"
    build(inline_passages(), out, BuildOptions(eval_fraction=0.34, max_gcide=0, max_train_pairs=16))
    profile = [p for text in read_corpus([write_profile_corpus(out, tmp_path / "profile")]).values()
               for p in paragraphs(text)]
    chosen = {r["chosen"] for r in _records(out / "reward" / "train.jsonl")}
    eval_texts = {r["text"] for r in _records(out / "passages" / "eval.jsonl")}
    assert profile and not set(profile) & chosen and not set(profile) & eval_texts
    assert {r["language"] for r in _records(out / "passages" / "train.jsonl") if r["text"] in set(profile)} == {"en", "ru"}
    with pytest.raises(ValueError, match="none is left"):
        built_all = tmp_path / "all"
        build(inline_passages(), built_all, BuildOptions(eval_fraction=0.34, max_gcide=0))
        write_profile_corpus(built_all, tmp_path / "empty")
