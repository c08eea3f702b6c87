"""Personal data (GDPR), enforced by the software:

- retention.py: how long each kind of data is kept and which rows are due (pure rules);
- purge.py: the audited retention purge (CLI `dialoga privacy purge`, the worker, the desk);
- identities.py and subjects.py: finding, exporting and erasing one person's data;
- tracker_store.py: the assistant's own memory (Rasa's SQL tracker store, its HTTP API);
- lease.py: one purge at a time per cluster;
- notice.py: the facts the privacy notice (/privacy) states, from the same configuration."""
