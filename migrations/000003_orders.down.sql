DROP TABLE procurement_scores, procurement_shortlist, procurement_criteria, procurement_steps, procurements,
    service_instance_history, service_instances, continuity_agreements, order_recipients, order_items, orders;
DROP SEQUENCE order_numbers;
