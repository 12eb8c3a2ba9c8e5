"""Chinese text helpers every layer shares: simplified characters, half-width forms, sentences.

The ground the other packages stand on: `knowledge` (indexing and querying), `voice` (transcripts and
speech) and `assistant` (answers) all read Chinese the same way, and none of them has to reach into
another layer for it. It imports nothing of the project.
"""
