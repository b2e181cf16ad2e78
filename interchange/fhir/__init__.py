"""FHIR R4 export (INTEROP "FHIR R4"): a Bundle per patient and NDJSON per resource type.

- terminology.py: every URI and code (LOINC, SNOMED CT, UCUM, the registry's CodeSystems);
- resources.py and questionnaires.py: the resources, built as plain dicts from loaded models;
- selectors.py: what each resource type is read from, prefetched per chunk of patients;
- export.py: the mapping table, the Bundle and the streamed NDJSON;
- services.py: the audit events of an export.

The API (api/fhir.py) and the `export_fhir` command serve it; both scope it with registry.access.
"""
