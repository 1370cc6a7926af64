"""forecast: cohort-component projection turned into elderly-care bed and 托位 demand.

The data flow is one way: config -> assumptions -> inputs -> engine -> projection -> demand
-> gaps -> outputs (see DESIGN.md in the project's shared folder and README.md).
"""

__version__ = "0.1.0"
