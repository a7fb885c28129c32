DROP TABLE created_counts;
