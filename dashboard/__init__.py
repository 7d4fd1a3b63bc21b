"""Stage 4: the Streamlit cost review dashboard."""
