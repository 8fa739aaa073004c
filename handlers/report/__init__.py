"""The report flow, one engine for every form in domain/forms.py, split along its jobs.

- resume: starting a report, finding one in progress, and showing it again after a crash;
- answers: taking typed answers and buttons, committing each before replying;
- prompts: asking the current question or showing the summary;
- submit: turning a finished draft into a report and its alerts.
"""
