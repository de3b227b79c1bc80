"""Data shipped with the program: procedure templates, product catalogue, fonts, sounds."""
