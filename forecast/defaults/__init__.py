"""Default inputs for any census unit and the data behind them: census tables, UN WPP, the
2010-2020 unit crosswalk, default rates with provenance, consistency across levels and national
trend fits."""
