"""Shared test support: the distributed Airflow stack fixture and its REST client."""
