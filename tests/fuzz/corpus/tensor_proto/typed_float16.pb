
*€x€øBfloat16