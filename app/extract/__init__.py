"""Proposing candidate facts from a new article, for a curator to review.

Rules only: no model, nothing downloaded. The pipeline is one module per step:
`documents` reads and cleans the capture (main text of HTML, page chrome, dates),
`quantities` finds every stated amount with its qualifier, `periods` dates it,
`subjects` says what it is most likely about, `indicators` guesses what it measures, and
`drafts` writes the candidates as JSON lines or as a seed document file.
"""
