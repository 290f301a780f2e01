"""Fallback support (« 🆘 Je bloque »): quick answers and tickets with the school's team."""
