# ckanext is a namespace package shared with CKAN and the other extensions.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)
