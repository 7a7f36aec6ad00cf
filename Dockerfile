# salescast's image: every Airflow component and worker runs it (docker-compose.yaml; the Helm
# chart in docs/kubernetes.md). Build:  docker build -t salescast:0.1.0 .
#
# Base: the official image, "slim" variant (core Airflow only). Airflow's docs recommend it when
# you install your own set of providers and dependencies: the regular image carries ~60 providers
# pinned to its own constraints, which our pins would upgrade under them. requirements.txt is the
# complete resolved closure of requirements.in (every package pinned exactly, checked with
# `pip check` in a brand-new venv), so it replaces the constraints file; installing
# apache-airflow==${AIRFLOW_VERSION} with it (Airflow's recipe for extending the image) makes the
# build fail if the base image and our pin ever disagree, instead of silently changing Airflow.
ARG AIRFLOW_BASE_IMAGE=apache/airflow:slim-3.3.2-python3.11
FROM ${AIRFLOW_BASE_IMAGE}

# One BLAS thread per process (include/salescast/threads.py says why): parallelism comes from
# Airflow tasks, Celery slots and pods, never from numpy's BLAS oversubscribing the cores.
ENV OPENBLAS_NUM_THREADS=1 \
    OMP_NUM_THREADS=1 \
    MKL_NUM_THREADS=1

# Runtime pins only (tests, linters and tools are in requirements-dev.txt, never here).
COPY --chown=airflow:0 requirements.txt /opt/salescast/requirements.txt
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /opt/salescast/requirements.txt \
    && pip check

# The salescast package, editable as everywhere else (pyproject.toml: packages under include/),
# so it finds include/expectations, include/sql and include/sources next to it.
COPY --chown=airflow:0 pyproject.toml /opt/salescast/pyproject.toml
COPY --chown=airflow:0 include/ /opt/salescast/include/
RUN pip install --no-cache-dir --no-deps --no-build-isolation -e /opt/salescast

# DAGs and the UI plugin, baked in: no volume, no git-sync; a new version is a new image tag.
COPY --chown=airflow:0 dags/ /opt/salescast/dags/
COPY --chown=airflow:0 plugins/ /opt/salescast/plugins/

ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/salescast/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/salescast/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    SALESCAST_HOME=/opt/airflow/salescast

# salescast's local state (the DuckDB warehouse file); compose mounts a shared volume here.
RUN mkdir -p /opt/airflow/salescast
