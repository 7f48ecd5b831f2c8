/* main.c — the ipabs command-line program (being built). */
#include <stdio.h>
int main(void)
{
    fputs("usage: ipabs COMMAND ...\n", stderr);
    return 2;
}
