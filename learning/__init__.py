"""Learning from data: a domain-adapted encoder, a learned re-ranker, the model registry, fair exposure."""
