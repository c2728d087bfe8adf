DROP TABLE funding_types, framework_solutions, catalogue_prices, catalogue_items,
    pricing_units, frameworks, suppliers, practices, ccgs, regions;
