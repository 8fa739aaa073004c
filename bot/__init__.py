"""The composition root: the command line, and the Application wired with every handler and job."""
