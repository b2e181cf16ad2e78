"""The demo registry: a synthetic cohort that looks real (seed_demo, demo).

The generator is pure Python — `cohort` drives `patient`, `serology`, `followup`, `treatments`
(with `episodes`, `glucocorticoids`, `activity`), `instruments` and `workflow`, drawing from the
tables of `clinical` — and importable without Django. `sites` names the centres and logins;
`accounts` writes them to the database, `store` the generated patients.
"""
