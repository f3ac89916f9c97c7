/* sendmail/sendmail.c: placeholder until written (issue 6). */
int main(void)
{
    return 70;
}
