"""The wording of the instruments as patients read it: the HAQ-DI's (Fries 1980, Stanford) and
the CHAQ's (Singh 1994) items, categories and answers, as published.

The web forms show them and the FHIR export writes them into its Questionnaires, so the words a
patient answered and the words a receiving system reads are the same.
"""

HAQ_CATEGORY_LABELS = {
    "dressing": "Dressing & grooming",
    "arising": "Arising",
    "eating": "Eating",
    "walking": "Walking",
    "hygiene": "Hygiene",
    "reach": "Reach",
    "grip": "Grip",
    "activities": "Activities",
}

HAQ_ITEM_LABELS = {
    "dress": "Dress yourself, including tying shoelaces and doing buttons",
    "shampoo": "Shampoo your hair",
    "stand": "Stand up from a straight chair",
    "bed": "Get in and out of bed",
    "cut_meat": "Cut your meat",
    "lift_cup": "Lift a full cup or glass to your mouth",
    "open_carton": "Open a new milk carton",
    "walk": "Walk outdoors on flat ground",
    "climb_steps": "Climb up five steps",
    "wash_body": "Wash and dry your body",
    "bath": "Take a tub bath",
    "toilet": "Get on and off the toilet",
    "reach_object": "Reach and get down a 5-pound object from just above your head",
    "pick_up_clothing": "Bend down to pick up clothing from the floor",
    "car_doors": "Open car doors",
    "open_jars": "Open jars which have been previously opened",
    "faucets": "Turn taps on and off",
    "errands": "Run errands and shop",
    "car_in_out": "Get in and out of a car",
    "chores": "Do chores such as vacuuming or yard work",
}

# The CHAQ asks the shared items in words for children, plus ten of its own.
CHAQ_ITEM_LABELS = {
    "dress": "Dress, including tying shoelaces and doing buttons",
    "shampoo": "Shampoo hair",
    "socks": "Remove socks",
    "nails": "Cut fingernails",
    "stand": "Stand up from a low chair or floor",
    "bed": "Get in and out of bed or stand up in crib",
    "cut_meat": "Cut own meat",
    "lift_cup": "Lift up a cup or glass to mouth",
    "open_carton": "Open a new cereal box",
    "walk": "Walk outdoors on flat ground",
    "climb_steps": "Climb up five steps",
    "wash_body": "Wash and dry entire body",
    "bath": "Take a tub bath (get in and out of the tub)",
    "toilet": "Get on and off the toilet or potty chair",
    "brush_teeth": "Brush teeth",
    "comb_hair": "Comb or brush hair",
    "reach_object": "Reach and get down a heavy object, such as a large game or books, "
    "from just above the head",
    "pick_up_clothing": "Bend down to pick up clothing or a piece of paper from the floor",
    "pull_sweater": "Pull on a sweater over the head",
    "turn_neck": "Turn neck to look back over shoulder",
    "write": "Write or scribble with pen or pencil",
    "car_doors": "Open car doors",
    "open_jars": "Open jars which have been previously opened",
    "faucets": "Turn taps on and off",
    "push_door": "Push open a door when having to turn a door knob",
    "errands": "Run errands and shop",
    "car_in_out": "Get into and out of a car, toy car or school bus",
    "bike": "Ride a bike or tricycle",
    "chores": "Do household chores (wash dishes, take out rubbish, tidy room)",
    "play": "Run and play",
}

# Each option starts with the digit of the answer, so typing the digit on the paper form selects it.
HAQ_ANSWERS = (
    ("0", "0 – no difficulty"),
    ("1", "1 – some difficulty"),
    ("2", "2 – much difficulty"),
    ("3", "3 – unable to do"),
)
CHAQ_NOT_APPLICABLE = ("na", "n/a – not applicable")
