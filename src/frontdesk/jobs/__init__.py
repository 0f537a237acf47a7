"""Durable background work: the queue (jobs table) and handlers named verb_noun."""
