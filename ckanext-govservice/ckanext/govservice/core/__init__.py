"""The platform's domain core: what a service and its statistics are, without CKAN.

Everything here is plain functions over plain data (dicts, lists, rdflib
graphs), so the CKAN extension, the harvesters (``govharvest``) and the
generators in ``datasets/`` share one implementation and test it without a
server:

* ``schema``    — the one reader of ``schemas/*.yaml`` and every fact derived
                  from them (field kinds, Solr field names, bulk columns,
                  required statistics columns, headline KPIs, header folding)
* ``rules``     — the rules of a service record (time limits, fees, channels)
* ``kpis``      — statistics rows, periods and the KPI arithmetic
* the one network across levels: ``documents`` (a service's documents matched
  to the document catalogue by code, name or alias; what a citizen must still
  bring), ``compare`` (implementations of one basic item against its standard
  and the best implementer; the standardisation score), ``reuse`` (the
  documents reuse index and the reduction rate 材料减免率)
* one module per open standard, writer and reader together:
  ``cpsv`` (CPSV-AP 3.2 RDF), ``dcat_ap`` (DCAT-AP 3.0.0's vocabularies for
  the platform's own datasets, and the SHACL check), ``schemaorg`` (schema.org JSON-LD),
  ``open311`` (GeoReport v2 service list), ``tabular`` (the bulk CSV, XLSX
  and JSON files, and department spreadsheets)

The rule of this package: no module in it imports CKAN (``ckan``, any other
``ckanext.*``), Flask, SQLAlchemy or psycopg2 — not even inside a function.
The dependency runs one way: the CKAN side (``ckanext.govservice.*``) and the
harvesters import the core, never the reverse. ``tests/unit/test_core_layout.py``
holds the rule.
"""
