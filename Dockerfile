# The project image for docker-compose.yaml: the official Airflow image plus this project's locked
# requirements (no _PIP_ADDITIONAL_REQUIREMENTS at container start) and its code.
# AIRFLOW_VERSION must equal the apache-airflow pin in requirements.txt (tests/deploy checks it).
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.11
FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}

# WeasyPrint (PDF packs) needs Pango and a font.
USER root
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*
USER airflow

# Pin Airflow itself with the lock so pip can never move it (the official image's advice).
ARG AIRFLOW_VERSION
COPY --chown=airflow:0 requirements.txt /opt/airflow/requirements.txt
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /opt/airflow/requirements.txt

# The code, so the image runs on hosts without the checkout; compose mounts the same folders over
# these for development.
COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 plugins /opt/airflow/plugins
COPY --chown=airflow:0 include /opt/airflow/include
