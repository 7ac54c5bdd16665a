"""Facts → Markdown pages and plots. The only part of reporter that imports Jinja2 and matplotlib."""
