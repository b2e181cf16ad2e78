"""The 2017 EULAR/ACR classification criteria (scoring.instruments.classification): pure, no
database. Lundberg IE et al., Ann Rheum Dis 2017;76:1955–64."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.instruments import (
    CLASSIFICATION_EXAMPLE_CASE,
    CalculatorInputError,
    ClassificationCase,
    InstrumentError,
    classify,
    classify_case,
    read_classification_case,
)
from scoring.instruments.classification import (
    BIOPSY_ITEM_KEYS,
    COLUMN_ITEM_KEYS,
    ITEM_KEYS,
    ITEMS,
    category,
    probability,
)

W1, W2, W3, W4 = ITEM_KEYS[0:4]
S1, S2, S3 = "heliotrope", "gottron_papules", "gottron_sign"
C1, L1, L2 = "dysphagia", "anti_jo1", "enzymes_raised"
B1, B2, B3, B4 = BIOPSY_ITEM_KEYS


def case(age, biopsy, *present, absent=(), **extra):
    """A case with the items in `present` true, those in `absent` false, the rest unanswered."""
    items = {key: True for key in present} | {key: False for key in absent}
    return {"age_at_onset": age, "muscle_biopsy": biopsy, "items": items, **extra}


def answered(age, biopsy, *present, **extra):
    """A complete case: every item of the column answered, those in `present` true."""
    column = "biopsy" if biopsy else "no_biopsy"
    absent = [key for key in COLUMN_ITEM_KEYS[column] if key not in present]
    return case(age, biopsy, *present, absent=absent, **extra)


# --- the specification's vectors ----------------------------------------------------------


VECTORS = {
    "K1": (case(12, False, W1, W2, S1, S2, L2), "8.0", "definite", "jdm", False),
    "K2": (case(52, False, S1, S3, absent=(W1, W2, W3, W4)), "8.5", "definite", "adm", False),
    "K3": (case(70, True, W4, L2, B4, B1), "9.6", "definite", "ibm", False),
    "K4a": (case(55, False, W1, W2, L2), "4.9", "not_iim", None, True),
    "K4b": (case(55, True, W1, W2, L2, B1), "6.5", "possible", None, False),
}


@pytest.mark.parametrize("name", VECTORS)
def test_the_specification_vectors(name):
    document, score, category_, subgroup, biopsy_recommended = VECTORS[name]
    result = classify(document)
    assert result["score"] == score
    assert result["category"] == category_
    assert result["subgroup"] == subgroup
    assert result["biopsy_recommended"] is biopsy_recommended
    assert result["column"] == ("biopsy" if document["muscle_biopsy"] else "no_biopsy")
    assert result["rule"] == "eular-acr-2017"


def test_the_answer_has_the_contract_keys_and_types():
    result = classify(VECTORS["K2"][0])
    assert list(result) == ["rule", "column", "score", "complete", "missing", "category",
                            "probability", "subgroup", "biopsy_recommended"]  # fmt: skip
    assert isinstance(result["score"], str)
    assert result["probability"] == 0.9608
    assert (
        result["missing"]
        == ["gottron_papules", "dysphagia", "anti_jo1", "enzymes_raised"]
        == [key for key in ITEM_KEYS if key in result["missing"]]
    )


def test_the_contract_example_case():
    # W1 is true in the example case: 2.1 (A2) + 0.7 + 3.1 + 3.3 = 9.2, dermatomyositis.
    result = classify(CLASSIFICATION_EXAMPLE_CASE)
    assert (result["score"], result["category"], result["subgroup"]) == ("9.2", "definite", "dm")
    assert (result["missing"], result["complete"]) == (["enzymes_raised"], False)


def test_a_list_is_answered_in_order():
    documents = [VECTORS[name][0] for name in VECTORS]
    assert [r["score"] for r in classify(documents)] == ["8.0", "8.5", "9.6", "4.9", "6.5"]
    assert classify([]) == []


# --- weights ------------------------------------------------------------------------------


@pytest.mark.parametrize("item", ITEMS, ids=lambda item: item.id)
def test_each_item_scores_its_weight_in_each_column(item):
    # Onset at 10: the age scores 0, so the score is the item's weight alone.
    with_biopsy = classify_case(read_classification_case(case(10, True, item.key)))
    assert with_biopsy.score == item.biopsy
    assert with_biopsy.points == {item.id: item.biopsy}
    if item.no_biopsy is not None:
        without = classify_case(read_classification_case(case(10, False, item.key)))
        assert without.score == item.no_biopsy


def test_the_published_weights():
    assert {i.id: (str(i.no_biopsy), str(i.biopsy)) for i in ITEMS} == {
        "W1": ("0.7", "0.7"), "W2": ("0.8", "0.5"), "W3": ("1.9", "1.6"), "W4": ("0.9", "1.2"),
        "S1": ("3.1", "3.2"), "S2": ("2.1", "2.7"), "S3": ("3.3", "3.7"), "C1": ("0.7", "0.6"),
        "L1": ("3.9", "3.8"), "L2": ("1.3", "1.4"), "B1": ("None", "1.7"), "B2": ("None", "1.2"),
        "B3": ("None", "1.9"), "B4": ("None", "3.1"),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("age", "no_biopsy", "biopsy", "band"),
    [(0, "0.0", "0.0", None), (17, "0.0", "0.0", None), (18, "1.3", "1.5", "A1"),
     (39, "1.3", "1.5", "A1"), (40, "2.1", "2.2", "A2"), (120, "2.1", "2.2", "A2")],
)  # fmt: skip
def test_age_bands_in_whole_years(age, no_biopsy, biopsy, band):
    assert classify(case(age, False))["score"] == no_biopsy
    assert classify(case(age, True))["score"] == biopsy
    assert classify_case(read_classification_case(case(age, True))).age_band == band


def test_the_skin_items_score_independently():
    assert classify(case(10, False, S1, S2, S3))["score"] == "8.5"  # 3.1 + 2.1 + 3.3
    assert classify(case(10, True, S1, S2, S3))["score"] == "9.6"  # 3.2 + 2.7 + 3.7


def test_the_score_is_exact_decimal_arithmetic():
    # 0.7 + 0.8 + 1.9 + 0.9 + 0.7 in binary floats is 4.999999999999999.
    result = classify_case(read_classification_case(case(10, False, W1, W2, W3, W4, C1)))
    assert result.score == Decimal("5.0")
    assert str(result.score) == "5.0"


def test_the_biopsy_column_is_used_if_and_only_if_a_biopsy_was_done():
    # The same clinical findings weigh differently: W2 is 0.8 without and 0.5 with a biopsy.
    assert classify(case(30, False, W2))["score"] == "2.1"
    assert classify(case(30, True, W2))["score"] == "2.0"
    assert classify(case(30, True))["column"] == "biopsy"


# --- categories ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "score", "expected"),
    [("no_biopsy", "0.0", "not_iim"), ("no_biopsy", "5.2", "not_iim"),
     ("no_biopsy", "5.3", "possible"), ("no_biopsy", "5.4", "possible"),
     ("no_biopsy", "5.5", "probable"), ("no_biopsy", "7.4", "probable"),
     ("no_biopsy", "7.5", "definite"), ("no_biopsy", "30.0", "definite"),
     ("biopsy", "6.4", "not_iim"), ("biopsy", "6.5", "possible"), ("biopsy", "6.6", "possible"),
     ("biopsy", "6.7", "probable"), ("biopsy", "8.6", "probable"), ("biopsy", "8.7", "definite")],
)  # fmt: skip
def test_category_cut_offs(column, score, expected):
    assert category(Decimal(score), column) == expected


# Item combinations reaching every cut-off; onset at 10 (0 points) unless an age is given.
CUT_OFF_CASES = [
    (case(10, False, L1, L2), "5.2", "not_iim"),  # 3.9 + 1.3
    (case(40, False, S1), "5.2", "not_iim"),  # 2.1 + 3.1
    (case(10, False, S1, S2), "5.2", "not_iim"),  # 3.1 + 2.1
    (case(10, False, W1, W2, S3, C1), "5.5", "probable"),  # 0.7 + 0.8 + 3.3 + 0.7
    (case(10, False, S3, C1, L2), "5.3", "possible"),  # 3.3 + 0.7 + 1.3
    (case(10, False, S1, S2, W1, W2), "6.7", "probable"),  # 3.1 + 2.1 + 0.7 + 0.8
    (case(18, False, S2, W3), "5.3", "possible"),  # 1.3 + 2.1 + 1.9
    (case(10, False, L1, W1, W2), "5.4", "possible"),  # 3.9 + 0.7 + 0.8
    (case(18, False, S2, W3, W2, C1), "6.8", "probable"),  # 1.3 + 2.1 + 1.9 + 0.8 + 0.7
    (case(10, False, S1, W1, W3), "5.7", "probable"),  # 3.1 + 0.7 + 1.9
    (case(10, False, L1, L2, W2), "6.0", "probable"),  # 3.9 + 1.3 + 0.8
    (case(40, False, S1, L2, W1), "7.2", "probable"),  # 2.1 + 3.1 + 1.3 + 0.7
    (case(10, False, L1, S3), "7.2", "probable"),  # 3.9 + 3.3
    (case(18, False, L1, S2), "7.3", "probable"),  # 1.3 + 3.9 + 2.1
    (case(40, False, S1, L2, W2), "7.3", "probable"),  # 2.1 + 3.1 + 1.3 + 0.8
    (case(10, False, S1, S2, W3), "7.1", "probable"),  # 3.1 + 2.1 + 1.9
    (case(10, False, L1, L2, W3), "7.1", "probable"),  # 3.9 + 1.3 + 1.9
    (case(18, False, S1, S2, W1), "7.2", "probable"),  # 1.3 + 3.1 + 2.1 + 0.7
    (case(10, False, L1, L2, W3, W2), "7.9", "definite"),  # 3.9 + 1.3 + 1.9 + 0.8
    (case(18, False, S1, S2, W2), "7.3", "probable"),  # 1.3 + 3.1 + 2.1 + 0.8
    (case(18, False, S1, S2, W4), "7.4", "probable"),  # 1.3 + 3.1 + 2.1 + 0.9
    (case(40, False, L1, L2, W4), "8.2", "definite"),  # 2.1 + 3.9 + 1.3 + 0.9
    (case(40, False, L1, W1, W2), "7.5", "definite"),  # 2.1 + 3.9 + 0.7 + 0.8
    (case(10, True, W4, W3, L1), "6.6", "possible"),  # 1.2 + 1.6 + 3.8
    (case(10, True, S3, W3, W4), "6.5", "possible"),  # 3.7 + 1.6 + 1.2
    (case(10, True, B4, B3, W3), "6.6", "possible"),  # 3.1 + 1.9 + 1.6
    (case(18, True, B4, B3), "6.5", "possible"),  # 1.5 + 3.1 + 1.9
    (case(10, True, L1, B3, W2), "6.2", "not_iim"),  # 3.8 + 1.9 + 0.5
    (case(10, True, S3, S2), "6.4", "not_iim"),  # 3.7 + 2.7
    (case(10, True, L1, B1, W4), "6.7", "probable"),  # 3.8 + 1.7 + 1.2
    (case(18, True, L1, L2, B2, W1), "8.6", "probable"),  # 1.5 + 3.8 + 1.4 + 1.2 + 0.7
    (case(18, True, L1, L2, B2, W2), "8.4", "probable"),  # 1.5 + 3.8 + 1.4 + 1.2 + 0.5
    (case(40, True, S1, S2, W1), "8.8", "definite"),  # 2.2 + 3.2 + 2.7 + 0.7
    (case(18, True, S1, S3, W4), "9.6", "definite"),  # 1.5 + 3.2 + 3.7 + 1.2
    (case(10, True, L1, L2, B1, C1, W1, W2), "8.7", "definite"),  # 3.8+1.4+1.7+0.6+0.7+0.5
]


@pytest.mark.parametrize(("document", "score", "expected"), CUT_OFF_CASES)
def test_item_combinations_on_both_sides_of_every_cut_off(document, score, expected):
    result = classify(document)
    assert (result["score"], result["category"]) == (score, expected)


def test_the_combinations_reach_every_cut_off():
    reached = {(d["muscle_biopsy"], score) for d, score, _ in CUT_OFF_CASES}
    no_biopsy = {"5.2", "5.3", "5.4", "5.5", "7.4", "7.5"}
    biopsy = {"6.4", "6.5", "6.6", "6.7", "8.6", "8.7"}
    assert {(False, s) for s in no_biopsy} | {(True, s) for s in biopsy} <= reached


# --- probability --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "score", "published_percent", "value"),
    [("no_biopsy", "5.3", 50, "0.5000"), ("no_biopsy", "5.5", 55, "0.5498"),
     ("no_biopsy", "7.5", 90, "0.9002"), ("no_biopsy", "8.5", 96, "0.9608"),
     ("biopsy", "6.5", 50, "0.5000"), ("biopsy", "6.7", 55, "0.5498"),
     ("biopsy", "8.7", 90, "0.9002")],
)  # fmt: skip
def test_the_probability_reproduces_the_published_pairs(column, score, published_percent, value):
    derived = probability(Decimal(score), column)
    assert derived == Decimal(value)
    assert round(derived * 100) == published_percent


def test_the_probability_has_four_decimals_and_stores_its_intercept():
    result = classify_case(read_classification_case(VECTORS["K4a"][0]))
    assert result.probability == Decimal("0.4013")  # 1 / (1 + e^(5.30 − 4.9))
    assert result.intercept == Decimal("5.30")
    assert classify_case(read_classification_case(VECTORS["K3"][0])).intercept == Decimal("6.50")


# --- subgroups ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "subgroup"),
    [
        (case(12, False, S1, S2, L2, W1), "jdm"),
        (case(12, False, L1, L2, W3, W1), "juvenile_other"),  # 3.9 + 1.3 + 1.9 + 0.7 = 7.8
        (case(17, True, B4, B1, W3, L2), "juvenile_other"),  # rimmed vacuoles, but onset < 18
        (case(30, False, S1, S3, W1), "dm"),
        (case(30, False, S1, S3, absent=(W1, W2, W3, W4)), "adm"),
        (case(30, False, S1, S3), "adm"),  # weakness unanswered is not weakness
        (case(60, True, B4, W4, L2), "ibm"),  # 2.2 + 3.1 + 1.2 + 1.4 = 7.9
        (
            case(60, False, L1, W1, finger_flexor_weakness=True, treatment_response="not_improved"),
            "ibm",
        ),  # fmt: skip
        (case(60, False, L1, W1, finger_flexor_weakness=True, treatment_response="improved"), "pm"),
        (case(60, False, L1, W1, finger_flexor_weakness=True), "pm"),  # not treated
        (case(60, False, L1, W1, treatment_response="not_improved"), "pm"),
        (case(60, False, L1, W1), "pm"),
        (case(60, True, B3, L1, W1), "pm"),  # 2.2 + 1.9 + 3.8 + 0.7 = 8.6, IMNM falls here
    ],
)
def test_the_subgroup_tree(document, subgroup):
    result = classify(document)
    assert result["category"] in ("probable", "definite")
    assert result["subgroup"] == subgroup


@pytest.mark.parametrize(
    "document",
    # 3.1 + 2.1 = 5.2; 2.2 + 3.1 + 0.7 = 6.0; 2.1 + 3.3 = 5.4 (possible)
    [case(12, False, S1, S2), case(60, True, B4, W1), case(40, False, S3)],
    ids=["jdm-like", "ibm-like", "dm-like"],
)
def test_no_subgroup_below_probable(document):
    result = classify(document)
    assert result["category"] in ("not_iim", "possible")
    assert result["subgroup"] is None


# --- biopsy recommended -------------------------------------------------------------------


def test_a_biopsy_is_recommended_without_skin_signs_and_without_a_biopsy():
    assert classify(case(60, False, L1, L2, W1, W2))["biopsy_recommended"] is True
    assert classify(case(60, False, L1, absent=(S1, S2, S3)))["biopsy_recommended"] is True
    assert classify(case(60, False, S2))["biopsy_recommended"] is False
    assert classify(case(60, True, L1))["biopsy_recommended"] is False


def test_the_recommendation_does_not_change_the_score():
    with_flag = classify(case(60, False, L1, L2, W1, W2))  # 2.1 + 3.9 + 1.3 + 0.7 + 0.8
    assert (with_flag["score"], with_flag["category"]) == ("8.8", "definite")


# --- missing and complete -----------------------------------------------------------------


def test_missing_lists_the_columns_unanswered_items_in_table_order():
    nothing = classify(case(30, False))
    assert nothing["missing"] == list(COLUMN_ITEM_KEYS["no_biopsy"]) == list(ITEM_KEYS[:10])
    assert nothing["complete"] is False
    biopsy = classify(case(30, True))
    assert biopsy["missing"] == list(ITEM_KEYS)
    nulls = classify({**case(30, True), "items": {B4: None, W1: None, S1: False}})
    assert nulls["missing"] == [key for key in ITEM_KEYS if key != S1]


@pytest.mark.parametrize("biopsy", [False, True])
def test_complete_when_every_item_of_the_column_is_answered(biopsy):
    result = classify(answered(30, biopsy, S1))
    assert (result["missing"], result["complete"]) == ([], True)


def test_biopsy_items_are_never_missing_without_a_biopsy():
    result = classify(answered(30, False))
    assert result["complete"] is True
    assert not set(result["missing"]) & set(BIOPSY_ITEM_KEYS)


# --- reading a case -----------------------------------------------------------------------


def errors_of(document):
    with pytest.raises(CalculatorInputError) as raised:
        classify(document)
    return raised.value.errors


@pytest.mark.parametrize(
    ("document", "field"),
    [
        (case(30, False, B1), "items.endomysial_infiltrate"),
        (case(30, False, absent=(B4,)), "items.rimmed_vacuoles"),
        ({**case(30, False), "colour": "blue"}, "colour"),
        ({**case(30, False), "items": {"aldolase_raised": True}}, "items.aldolase_raised"),
        (case(-1, False), "age_at_onset"),
        (case(121, False), "age_at_onset"),
        (case(10**400, False), "age_at_onset"),
        (case(Decimal("1e999999999"), False), "age_at_onset"),
        (case(Decimal("NaN"), False), "age_at_onset"),
        (case(float("inf"), False), "age_at_onset"),
        (case(52.5, False), "age_at_onset"),
        (case(Decimal("52.5"), False), "age_at_onset"),
        (case(True, False), "age_at_onset"),
        (case("52", False), "age_at_onset"),
        (case(None, False), "age_at_onset"),
        ({"muscle_biopsy": False, "items": {}}, "age_at_onset"),
        (case(30, None), "muscle_biopsy"),
        (case(30, "yes"), "muscle_biopsy"),
        (case(30, 1), "muscle_biopsy"),
        ({"age_at_onset": 30, "muscle_biopsy": False}, "items"),
        ({**case(30, False), "items": [W1]}, "items"),
        ({**case(30, False), "items": {W1: "yes"}}, "items.weakness_proximal_upper"),
        ({**case(30, False), "items": {W1: 1}}, "items.weakness_proximal_upper"),
        (case(30, False, finger_flexor_weakness="no"), "finger_flexor_weakness"),
        (case(30, False, treatment_response="worse"), "treatment_response"),
        (case(30, False, treatment_response=["improved"]), "treatment_response"),
        ([case(30, False), case(30, False, B2)], "[1].items.perimysial_perivascular_infiltrate"),
        ([case(30, False), "a case"], "[1]"),
        ("a case", "$"),
        (52, "$"),
    ],
)
def test_refused_input_names_the_field(document, field):
    assert field in {path for path, _ in errors_of(document)}


def test_every_problem_is_reported_once_with_its_field():
    document = {"age_at_onset": 17.5, "muscle_biopsy": False, "extra": 1,
                "items": {B4: True, W1: "x", "bogus": None},
                "finger_flexor_weakness": 0, "treatment_response": "maybe"}  # fmt: skip
    assert [path for path, _ in errors_of(document)] == [
        "extra", "age_at_onset", "items.rimmed_vacuoles", "items.weakness_proximal_upper",
        "items.bogus", "finger_flexor_weakness", "treatment_response",
    ]  # fmt: skip


def test_error_messages_do_not_echo_huge_values():
    ((path, message),) = errors_of(case(10**4000, False))
    assert path == "age_at_onset"
    assert len(message) < 100


def test_biopsy_items_given_as_null_without_a_biopsy_are_unanswered():
    # Null is the contract's "unanswered", the same as leaving the key out.
    assert classify({**case(30, False), "items": {B1: None}})["missing"] == list(ITEM_KEYS[:10])


def test_whole_numbers_in_other_forms_are_read_as_years():
    for age in (40.0, Decimal("40"), Decimal("40.0"), Decimal("4E+1")):
        assert read_classification_case(case(age, False)).age_at_onset == 40
        assert classify(case(age, False))["score"] == "2.1"


def test_the_defaults():
    read = read_classification_case(case(30, False))
    assert (read.finger_flexor_weakness, read.treatment_response) == (None, "not_treated")
    null = read_classification_case(case(30, False, treatment_response=None))
    assert null.treatment_response == "not_treated"


def test_the_case_object_checks_its_fields_and_normalises_items():
    built = ClassificationCase(age_at_onset=30, muscle_biopsy=True, items={B4: True})
    assert list(built.items) == list(ITEM_KEYS)
    assert built.items[B4] is True and built.items[W1] is None
    with pytest.raises(TypeError):
        built.items[W1] = True
    with pytest.raises(InstrumentError) as raised:
        ClassificationCase(age_at_onset=30, muscle_biopsy=False, items={B4: True})
    assert raised.value.field == "items.rimmed_vacuoles"
    with pytest.raises(InstrumentError) as raised:
        ClassificationCase(age_at_onset=130, muscle_biopsy=False, items={})
    assert raised.value.field == "age_at_onset"


# --- invariants ---------------------------------------------------------------------------


answers = st.sampled_from([True, False, None])


@st.composite
def cases(draw):
    biopsy = draw(st.booleans())
    keys = COLUMN_ITEM_KEYS["biopsy" if biopsy else "no_biopsy"]
    items = {key: draw(answers) for key in draw(st.lists(st.sampled_from(keys), unique=True))}
    return {
        "age_at_onset": draw(st.integers(0, 120)),
        "muscle_biopsy": biopsy,
        "items": items,
        "finger_flexor_weakness": draw(answers),
        "treatment_response": draw(st.sampled_from(["improved", "not_improved", "not_treated"])),
    }


@settings(max_examples=300, deadline=None)
@given(cases())
def test_the_score_is_the_sum_of_the_weights_present(document):
    result = classify_case(read_classification_case(document))
    column = result.column
    weights = {i.key: i.biopsy if column == "biopsy" else i.no_biopsy for i in ITEMS}
    expected = sum(
        (weights[key] for key, value in document["items"].items() if value is True), Decimal(0)
    )
    age = document["age_at_onset"]
    if age >= 40:
        expected += Decimal("2.2" if column == "biopsy" else "2.1")
    elif age >= 18:
        expected += Decimal("1.5" if column == "biopsy" else "1.3")
    assert result.score == expected
    assert sum(result.points.values(), Decimal(0)) == result.score
    assert result.category == category(result.score, column)
    assert result.complete is (not result.missing)


@settings(max_examples=300, deadline=None)
@given(cases(), st.data())
def test_adding_an_item_never_lowers_the_score(document, data):
    keys = COLUMN_ITEM_KEYS["biopsy" if document["muscle_biopsy"] else "no_biopsy"]
    key = data.draw(st.sampled_from(keys))
    before = classify(document)
    after = classify({**document, "items": {**document["items"], key: True}})
    assert Decimal(after["score"]) >= Decimal(before["score"])
    order = ["not_iim", "possible", "probable", "definite"]
    assert order.index(after["category"]) >= order.index(before["category"])
