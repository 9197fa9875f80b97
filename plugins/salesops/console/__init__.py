"""The RevOps console: pages served inside the Airflow UI by the plugin in plugins/revops_console.py."""
