"""Structure in a library: DBSCAN clusters and a 3D t-SNE projection, cached until the embeddings change."""
