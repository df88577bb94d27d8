"""Use cases: take ids, check rules, change models, commit, ask for jobs after the commit."""
