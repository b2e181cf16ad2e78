"""Interchange with the formats of the field: CDISC ODM 1.3.2 and FHIR R4 out, REDCap and ODM in.

Above the domain (it reads every app and writes only through crf's one patient-document writer),
below the interface (`api/`, `web/`), which serve its exports and imports over HTTP.
"""
