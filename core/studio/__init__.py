"""The studio's services for the web app: background training jobs and the server-wide choices."""
