/* main.c - placeholder entry until the command table lands. */
#include <stdio.h>
int main(void) { puts("infuse"); return 0; }
