"""The REDCap import (docs/examples/redcap/README.md): a project's data dictionary, record
export (flat or EAV CSV) and a mapping file in; patients stored through crf's one
patient-document writer, each record all or nothing, with a per-record report.

- `dictionary`: the data dictionary's 18 columns, as fields and choice lists;
- `records`: the record export, flat or EAV, grouped by record;
- `mapping`: the mapping YAML, checked against the dictionary;
- `convert`: a record as a patient of the submission document, and where each value came from;
- `importing`: the import itself (the command and the upload page's task call it);
- `suggest`: a draft mapping from the dictionary (`import_redcap mapping-suggest`);
- `jobs`: the upload page's import jobs, run by a Celery task.
"""
