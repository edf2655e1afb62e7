"""The progress tracker's model: the manifest (course.yaml), where results come from, the pure
rules that turn results and a learner's entries into item states, the learner's store,
environment checks and the Markdown export. No web framework: the JupyterLab face serves it.
"""
