"""The example submission document shown in the schema (and sent by the tests)."""

from api.schema.fields import Schema

SUBMISSION_EXAMPLE: Schema = {
    "site": "MAN",
    "patients": [
        {
            "patient_id": "MAN-0001",
            "sex": "female",
            "birth_year_month": "1968-04",
            "diagnosis": "dermatomyositis",
            "onset_date": "2019-03-01",
            "diagnosis_date": "2019-05-20",
            "autoantibodies": [
                {
                    "antibody": "anti-MDA5",
                    "result": "positive",
                    "method": "line_blot",
                    "sample_date": "2019-05-02",
                }
            ],
            "treatments": [
                {
                    "drug": "ivig",
                    "dose": 2,
                    "dose_unit": "g/kg",
                    "route": "iv",
                    "frequency": "every 4 weeks",
                    "start_date": "2020-01-10",
                    "stop_date": None,
                    "stop_reason": None,
                }
            ],
            "visits": [
                {
                    "visit_date": "2020-01-08",
                    "kind": "baseline",
                    "physician_global": 6.0,
                    "patient_global": 5.0,
                    "extramuscular": 4.0,
                    "mmt8": {
                        "scale": "bilateral",
                        "neck_flexors": 8,
                        "deltoid": {"right": 7, "left": 8},
                        "biceps": {"right": 8, "left": 8},
                        "wrist_extensors": {"right": 9, "left": 9},
                        "gluteus_maximus": {"right": 6, "left": 6},
                        "gluteus_medius": {"right": 7, "left": 7},
                        "quadriceps": {"right": 8, "left": 8},
                        "ankle_dorsiflexors": {"right": 10, "left": 10},
                    },
                    "labs": {
                        "ck": {"value": 2000, "unit": "U/L", "uln": 200},
                        "aldolase": {"value": 15.2, "unit": "U/L", "uln": 7.6},
                    },
                    "haq": {
                        "items": {
                            "dress": 1,
                            "shampoo": 1,
                            "stand": 2,
                            "bed": 1,
                            "cut_meat": 0,
                            "lift_cup": 0,
                            "open_carton": 1,
                            "walk": 1,
                            "climb_steps": 2,
                            "wash_body": 1,
                            "bath": 2,
                            "toilet": 1,
                            "reach_object": 2,
                            "pick_up_clothing": 1,
                            "car_doors": 0,
                            "open_jars": 1,
                            "faucets": 0,
                            "errands": 2,
                            "car_in_out": 1,
                            "chores": 2,
                        },
                        "aids": ["arising", "walking"],
                        "help": [],
                    },
                    "glucocorticoid_mg_per_day": 60,
                }
            ],
        }
    ],
}


# The patient-level outcome records (docs/outcomes.md "In the submission document"), shown on
# their components; the submission example above stays the tests' shared patient.
OUTCOME_EXAMPLE: Schema = {
    "vital_status": {
        "status": "dead",
        "last_known_alive": "2023-03-01",
        "death_date": "2023-03-04",
        "cause_category": "interstitial_lung_disease",
        "cause_text": "RP-ILD",
        "source": "medical_records",
    },
    "lung": {"ild": "yes", "ild_onset_date": "2022-11-02", "rapidly_progressive": True},
    "hrct": [{"date": "2022-11-05", "pattern": "nsip_op", "progression": False}],
    "adverse_events": [
        {
            "term": "Deep vein thrombosis",
            "category": "thromboembolic",
            "onset_date": "2023-01-20",
            "end_date": "2023-02-15",
            "severity": "moderate",
            "ctcae_grade": 2,
            "serious": True,
            "serious_criteria": ["hospitalisation"],
            "related_to": [
                {
                    "drug": "ivig",
                    "start_date": "2022-12-01",
                    "relatedness": "probable",
                    "action": "interrupted",
                }
            ],
            "outcome": "recovered",
        }
    ],
}
