"""Tests of the built-in providers, one package per provider."""
