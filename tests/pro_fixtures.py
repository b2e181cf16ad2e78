"""Shared by the tests of the patients' invitations (issue 17)."""

from datetime import date

HAQ_ALL_ONES = {
    "items": {
        item: 1
        for item in (
            "dress", "shampoo", "stand", "bed", "cut_meat", "lift_cup", "open_carton", "walk",
            "climb_steps", "wash_body", "bath", "toilet", "reach_object", "pick_up_clothing",
            "car_doors", "open_jars", "faucets", "errands", "car_in_out", "chores",
        )
    },
    "aids": ["walking"],
    "help": [],
}  # fmt: skip

TODAY = date.today().isoformat()
