"""The typed parameter table of the Ads API endpoints the provider uses: the one source of truth.

- :mod:`~airflow_provider_twads.api.params.model`: kinds (enums), :class:`Param`, :class:`Rule`,
  :class:`Endpoint`.
- :mod:`~airflow_provider_twads.api.params.fields`: the writable fields of line items, campaigns and
  targeting criteria (:data:`LINE_ITEM_FIELDS` feeds the line item operators) and their rules.
- :mod:`~airflow_provider_twads.api.params.endpoints`: every operation, by name (:data:`ENDPOINTS`).
- :mod:`~airflow_provider_twads.api.params.docs`: operator docstrings generated from the table.

Pure data: checking values against it is :mod:`airflow_provider_twads.api.validation`'s job. Import from
the submodules: the operators (imported when DAG files are parsed) need only ``fields`` and ``docs``, not
every endpoint nor the error classes.
"""
