"""The print kit and the letter check: envelopes, label sheets, letters from templates, and
the words that get letters withheld."""
