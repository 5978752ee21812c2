"""The disposal-rule knowledge base: complete, validated at load, and planned per condition."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from apps.recycling.loading import DATA_DIR, KnowledgeBaseError
from apps.recycling.rules import (
    get_knowledge_base,
    grounding_text,
    load_knowledge_base,
    plan_disposal,
    rule_for,
)
from apps.recycling.taxonomy import UnknownKeyError, get_taxonomy, load_situation_tags, load_taxonomy


def test_every_taxonomy_node_has_a_rule_with_steps():
    kb = get_knowledge_base()
    for category in get_taxonomy().categories():
        rule = kb.rule_for(category.key)
        assert rule.category == category.key
        assert rule.steps, category.key
        assert rule.summary and rule.where


def test_rule_for_unknown_category_raises():
    with pytest.raises(UnknownKeyError):
        rule_for("recyclable/unknown")


def test_exceptions_point_at_real_categories():
    kb = get_knowledge_base()
    glass = {exception.what: exception.goes_to for exception in kb.rule_for("recyclable/glass").exceptions}
    assert glass["깨진 유리"] == "non_combustible"
    plastic_targets = {exception.goes_to for exception in kb.rule_for("recyclable/plastic").exceptions}
    assert "general" in plastic_targets


def test_shared_adjustment_sets_are_merged_and_overridable():
    kb = get_knowledge_base()
    plastic = kb.rule_for("recyclable/plastic")
    assert plastic.adjustments["label_attached"].insufficiency  # from the shared `parts` set
    assert plastic.adjustments["cap_on"].insufficiency
    clear_pet = kb.rule_for("recyclable/clear_pet")
    # Clear PET keeps its cap on: the shared "separate the cap" advice is cancelled.
    assert clear_pet.adjustments["cap_on"].step is None
    assert clear_pet.adjustments["cap_on"].insufficiency is None


# --- planning -----------------------------------------------------------------------------------------


def test_label_on_adds_the_label_step_and_an_insufficiency():
    plan = plan_disposal("recyclable/clear_pet", "recyclable/clear_pet/water_bottle", ["label_attached"])
    assert any("라벨" in step for step in plan.steps)
    assert plan.insufficiencies == ("라벨이 아직 붙어 있어요.",)
    assert plan.destination == "recyclable/clear_pet"


def test_label_already_removed_skips_the_label_step():
    plan = plan_disposal("recyclable/clear_pet", None, ["label_removed", "contents_empty"])
    assert not any("라벨" in step for step in plan.steps)
    assert not any("비우" in step for step in plan.steps)
    assert plan.insufficiencies == ()


def test_contents_left_puts_emptying_first_and_rinsing_early():
    plan = plan_disposal("recyclable/paper_pack", None, ["contents_remaining", "needs_rinse"])
    assert "비우" in plan.steps[0]
    rinse = next(index for index, step in enumerate(plan.steps) if "헹" in step)
    discharge = next(index for index, step in enumerate(plan.steps) if "수거함" in step)
    assert rinse < discharge
    assert "내용물이 조금 남아 있어요." in plan.insufficiencies
    assert "아직 헹구지 않았어요." in plan.insufficiencies


def test_adjustment_order_does_not_depend_on_condition_order():
    first = plan_disposal("recyclable/plastic", None, ["label_attached", "contents_remaining", "cap_on"])
    second = plan_disposal("recyclable/plastic", None, ["cap_on", "contents_remaining", "label_attached"])
    assert first.steps == second.steps
    assert first.insufficiencies == second.insufficiencies


def test_broken_glass_bottle_is_redirected_to_the_non_combustible_bag():
    plan = plan_disposal("recyclable/glass", None, ["broken_glass_bottle", "label_attached"])
    assert plan.destination == "non_combustible"
    assert plan.redirected
    assert "불연성" in plan.steps[0]
    assert not any("라벨" in step for step in plan.steps)  # irrelevant once it is not recycled


def test_item_that_goes_elsewhere_follows_the_other_rule():
    plan = plan_disposal("food", "food/bone", [])
    assert plan.destination == "general"
    assert plan.redirect_reason is not None and "음식물류폐기물이 아니에요" in plan.redirect_reason
    assert plan.steps == tuple(step.text for step in rule_for("general").steps)


def test_original_korean_tag_names_are_accepted_and_unknown_tags_ignored():
    plan = plan_disposal("recyclable/clear_pet", None, ["라벨_부착", "made_up_tag"])
    assert plan.conditions == ("label_attached",)
    assert any("라벨" in step for step in plan.steps)


def test_item_outside_the_category_is_ignored():
    plan = plan_disposal("recyclable/glass", "food/bone", [])
    assert plan.item is None
    assert plan.destination == "recyclable/glass"


def test_gas_cans_get_the_gas_release_step_first():
    plan = plan_disposal("recyclable/metal", "recyclable/metal/butane_canister", ["gas_remaining_suspected"])
    assert "가스" in plan.steps[0]
    assert plan.item_note is not None


def test_grounding_text_lists_numbered_steps_and_exceptions():
    text = grounding_text("recyclable/clear_pet", None, ["label_attached"])
    assert "분류: 무색페트병 (recyclable/clear_pet)" in text
    assert "1. " in text and "라벨" in text
    assert "예외:" in text and "플라스틱류" in text


# --- data-file validation ----------------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_the_copied_data_loads(data_dir: Path):
    assert len(load_knowledge_base(data_dir).rules()) == len(get_taxonomy().categories())


def test_missing_rule_fails_and_names_the_category(data_dir: Path):
    _edit(data_dir / "rules.yaml", lambda data: data["rules"].pop("recyclable/battery"))
    with pytest.raises(
        KnowledgeBaseError, match=r"rules\.yaml: entry 'recyclable/battery'.*without a disposal rule"
    ):
        load_knowledge_base(data_dir)


def test_rule_for_an_unknown_category_fails(data_dir: Path):
    _edit(
        data_dir / "rules.yaml",
        lambda data: data["rules"].update({"recyclable/wood": data["rules"]["general"]}),
    )
    with pytest.raises(KnowledgeBaseError, match=r"entry 'recyclable/wood': rule for a category that is not"):
        load_knowledge_base(data_dir)


def test_missing_field_names_the_entry_and_the_path(data_dir: Path):
    _edit(data_dir / "rules.yaml", lambda data: data["rules"]["recyclable/glass"].pop("steps"))
    with pytest.raises(
        KnowledgeBaseError, match=r"rules\.yaml: entry 'recyclable/glass' \(rules\.recyclable/glass\.steps\)"
    ):
        load_knowledge_base(data_dir)


def test_misspelt_field_is_rejected(data_dir: Path):
    def misspell(data):
        data["rules"]["food"]["stpes"] = data["rules"]["food"]["steps"]

    _edit(data_dir / "rules.yaml", misspell)
    with pytest.raises(
        KnowledgeBaseError, match=r"entry 'food' \(rules\.food\.stpes\): Extra inputs are not permitted"
    ):
        load_knowledge_base(data_dir)


def test_adjustment_for_unknown_tag_fails(data_dir: Path):
    _edit(
        data_dir / "rules.yaml",
        lambda data: data["rules"]["food"]["adjustments"].update({"no_such_tag": {"step": "x"}}),
    )
    with pytest.raises(
        KnowledgeBaseError, match=r"entry 'food': adjustment for unknown situation tag 'no_such_tag'"
    ):
        load_knowledge_base(data_dir)


def test_adjustment_anchored_at_a_missing_step_fails(data_dir: Path):
    _edit(
        data_dir / "rules.yaml",
        lambda data: data["rules"]["food"]["adjustments"]["mixed_with_food"].update({"at": "nowhere"}),
    )
    with pytest.raises(
        KnowledgeBaseError, match=r"entry 'food': adjustment 'mixed_with_food': no step with id 'nowhere'"
    ):
        load_knowledge_base(data_dir)


def test_exception_to_unknown_category_fails(data_dir: Path):
    _edit(
        data_dir / "rules.yaml",
        lambda data: data["rules"]["recyclable/glass"]["exceptions"][0].update({"goes_to": "landfill"}),
    )
    with pytest.raises(
        KnowledgeBaseError, match=r"entry 'recyclable/glass': exception .* unknown category 'landfill'"
    ):
        load_knowledge_base(data_dir)


def test_invalid_contradiction_pattern_fails(data_dir: Path):
    _edit(
        data_dir / "rules.yaml",
        lambda data: data["rules"]["recyclable/battery"]["contradictions"].append(
            {"pattern": "(", "reason": "x"}
        ),
    )
    with pytest.raises(KnowledgeBaseError, match=r"entry 'recyclable/battery': invalid regular expression"):
        load_knowledge_base(data_dir)


def test_bad_taxonomy_item_key_names_the_item(data_dir: Path):
    def break_key(data):
        data["categories"][0]["children"][1]["items"][0]["key"] = "Milk Carton"

    _edit(data_dir / "taxonomy.yaml", break_key)
    with pytest.raises(
        KnowledgeBaseError,
        match=r"taxonomy\.yaml: entry 'Milk Carton' \(categories\.0\.children\.1\.items\.0\.key\)",
    ):
        load_taxonomy(data_dir / "taxonomy.yaml")


def test_duplicate_item_label_fails(data_dir: Path):
    def duplicate(data):
        data["categories"][0]["children"][1]["items"][1]["label"] = "우유팩"

    _edit(data_dir / "taxonomy.yaml", duplicate)
    with pytest.raises(
        KnowledgeBaseError,
        match=r"entry 'recyclable/paper_pack/soy_milk_carton': label '우유팩' is already used",
    ):
        load_taxonomy(data_dir / "taxonomy.yaml")


def test_item_goes_to_unknown_category_fails(data_dir: Path):
    def dangling(data):
        food = next(category for category in data["categories"] if category["key"] == "food")
        food["items"][0]["goes_to"] = "compost"

    _edit(data_dir / "taxonomy.yaml", dangling)
    with pytest.raises(KnowledgeBaseError, match=r"entry 'food/vegetables': goes_to 'compost'"):
        load_taxonomy(data_dir / "taxonomy.yaml")


def test_unknown_tag_group_and_bad_pattern_fail(data_dir: Path):
    path = data_dir / "situation_tags.yaml"
    _edit(path, lambda data: data["tags"][0].update({"group": "weather"}))
    with pytest.raises(
        KnowledgeBaseError, match=r"situation_tags\.yaml: entry 'contents_present' \(tags\.0\.group\)"
    ):
        load_situation_tags(path)
    _edit(path, lambda data: data["tags"][0].update({"group": "contents", "hint_patterns": ["(unclosed"]}))
    with pytest.raises(KnowledgeBaseError, match=r"entry 'contents_present': invalid hint pattern"):
        load_situation_tags(path)


def test_invalid_yaml_and_missing_file_name_the_file(data_dir: Path):
    (data_dir / "rules.yaml").write_text("rules: [unclosed", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"^rules\.yaml: not valid YAML"):
        load_knowledge_base(data_dir)
    (data_dir / "taxonomy.yaml").unlink()
    with pytest.raises(KnowledgeBaseError, match=r"^taxonomy\.yaml: cannot read the file"):
        load_taxonomy(data_dir / "taxonomy.yaml")
