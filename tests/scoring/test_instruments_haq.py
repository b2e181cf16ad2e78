"""HAQ-DI and CHAQ-DI (docs/scoring.md §5)."""

from fractions import Fraction

import pytest

from scoring.instruments import CHAQ_CATEGORIES, HAQ_CATEGORIES, InstrumentError, chaq_di, haq_di

CATEGORIES = ("dressing", "arising", "eating", "walking", "hygiene", "reach", "grip", "activities")


def answers(categories, value, answered=CATEGORIES):
    """Every item of the answered categories set to ``value``."""
    return {item: value for name in answered for item in categories[name]}


def test_haq_items_per_category():
    assert tuple(HAQ_CATEGORIES) == CATEGORIES
    assert HAQ_CATEGORIES["grip"] == ("car_doors", "open_jars", "faucets")
    assert sum(len(items) for items in HAQ_CATEGORIES.values()) == 20


def test_chaq_items_per_category():
    assert tuple(CHAQ_CATEGORIES) == CATEGORIES
    assert [len(items) for items in CHAQ_CATEGORIES.values()] == [4, 2, 3, 2, 5, 4, 5, 5]
    assert sum(len(items) for items in CHAQ_CATEGORIES.values()) == 30
    assert CHAQ_CATEGORIES["activities"] == ("errands", "car_in_out", "bike", "chores", "play")


def test_category_score_is_the_highest_answered_item():
    items = answers(HAQ_CATEGORIES, 0)
    items.update(cut_meat=1, lift_cup=3, open_carton=2)  # eating scores 3
    assert haq_di(items) == Fraction(3, 8)


def test_all_eight_categories_answered():
    items = answers(HAQ_CATEGORIES, 1)
    items["walk"] = 2
    assert haq_di(items) == Fraction(9, 8)


def test_the_design_document_example_with_aids():
    items = {
        "dress": 1, "shampoo": 1, "stand": 2, "bed": 1, "cut_meat": 0, "lift_cup": 0,
        "open_carton": 1, "walk": 1, "climb_steps": 2, "wash_body": 1, "bath": 2, "toilet": 1,
        "reach_object": 2, "pick_up_clothing": 1, "car_doors": 0, "open_jars": 1, "faucets": 0,
        "errands": 2, "car_in_out": 1, "chores": 2,
    }  # fmt: skip
    # dressing 1, arising 2, eating 1, walking 2, hygiene 2, reach 2, grip 1, activities 2
    assert haq_di(items, aids=["arising", "walking"]) == Fraction(13, 8)
    assert haq_di(items) == Fraction(13, 8)  # aids only lift scores below 2


def test_aids_raise_a_category_to_at_least_two():
    items = answers(HAQ_CATEGORIES, 0)
    assert haq_di(items, aids=["walking", "grip"]) == Fraction(4, 8)


def test_help_raises_a_category_to_at_least_two():
    items = answers(HAQ_CATEGORIES, 1)
    assert haq_di(items, help=["dressing"]) == Fraction(9, 8)


def test_aid_and_help_in_one_category_count_once():
    items = answers(HAQ_CATEGORIES, 0)
    assert haq_di(items, aids=["eating"], help=["eating"]) == Fraction(2, 8)


def test_a_three_stays_three_with_an_aid():
    items = answers(HAQ_CATEGORIES, 3)
    assert haq_di(items, aids=CATEGORIES, help=CATEGORIES) == 3


def test_aids_do_not_make_an_unanswered_category_answered():
    answered = CATEGORIES[:6]
    items = answers(HAQ_CATEGORIES, 1, answered)
    assert haq_di(items, aids=["grip", "activities"]) == 1  # 6 answered, each 1


def test_five_answered_categories_give_no_score():
    items = answers(HAQ_CATEGORIES, 1, CATEGORIES[:5])
    assert haq_di(items) is None
    assert haq_di(items, aids=CATEGORIES) is None


def test_six_answered_categories_are_enough():
    items = answers(HAQ_CATEGORIES, 2, CATEGORIES[:6])
    items["dress"] = 3
    assert haq_di(items) == Fraction(13, 6)


def test_one_answered_item_answers_its_category():
    items = answers(HAQ_CATEGORIES, 1, CATEGORIES[:5])
    items["faucets"] = 0  # grip answered through one of its three items
    assert haq_di(items) == Fraction(5, 6)


def test_none_is_unanswered():
    items = answers(HAQ_CATEGORIES, 1)
    items.update(
        reach_object=None, pick_up_clothing=None, car_doors=None, open_jars=None, faucets=None
    )
    assert haq_di(items) == 1


def test_chaq_not_applicable_is_excluded_not_scored_zero():
    items = answers(CHAQ_CATEGORIES, 2)
    items.update(bike="na", play="na", errands="na")  # activities: car_in_out 2, chores 2
    assert chaq_di(items) == 2


def test_chaq_category_with_only_not_applicable_items_is_unanswered():
    items = answers(CHAQ_CATEGORIES, 1)
    items.update(dict.fromkeys(CHAQ_CATEGORIES["grip"], "na"))
    items.update(dict.fromkeys(CHAQ_CATEGORIES["reach"], "na"))
    assert chaq_di(items, aids=["grip"]) == 1  # 6 answered; the aid in grip does not count
    items.update(dict.fromkeys(CHAQ_CATEGORIES["walking"], "na"))
    assert chaq_di(items) is None  # 5 answered


def test_chaq_with_aids_and_help():
    items = answers(CHAQ_CATEGORIES, 0)
    items["socks"] = 1
    assert chaq_di(items, aids=["dressing"], help=["hygiene"]) == Fraction(4, 8)


@pytest.mark.parametrize(
    ("items", "aids", "help", "field"),
    [
        ({"walk": 4}, (), (), "items.walk"),
        ({"walk": -1}, (), (), "items.walk"),
        ({"walk": 1.5}, (), (), "items.walk"),
        ({"walk": True}, (), (), "items.walk"),
        ({"walk": "na"}, (), (), "items.walk"),  # not applicable exists only in CHAQ
        ({"socks": 1}, (), (), "items.socks"),  # a CHAQ item
        ({"walk": 1}, ["walking", "running"], (), "aids[1]"),
        ({"walk": 1}, (), ["flying"], "help[0]"),
        ({"walk": 1}, "walking", (), "aids"),
    ],
)
def test_invalid_haq_input_is_rejected_with_the_field_named(items, aids, help, field):
    with pytest.raises(InstrumentError) as caught:
        haq_di(items, aids=aids, help=help)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("items", "field"),
    [({"bike": "n/a"}, "items.bike"), ({"bike": 5}, "items.bike"), ({"swim": 1}, "items.swim")],
)
def test_invalid_chaq_input_is_rejected_with_the_field_named(items, field):
    with pytest.raises(InstrumentError) as caught:
        chaq_di(items)
    assert caught.value.field == field
