"""The tumor-board web app: server-rendered Jinja2 + vendored HTMX; the same templates make the PDF."""
