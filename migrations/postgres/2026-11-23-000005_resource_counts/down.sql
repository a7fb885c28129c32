DROP TABLE resource_counts;
