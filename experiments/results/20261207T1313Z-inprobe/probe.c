#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

static double tcpu(void){struct timespec t;clock_gettime(CLOCK_THREAD_CPUTIME_ID,&t);return t.tv_sec*1e3+t.tv_nsec/1e6;}
static double wall(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
static volatile uint64_t sink;
static void *run(void *arg){
  FILE *f=(FILE*)arg;
  size_t n=(64u<<20)/4;
  uint32_t *next=malloc(n*4);
  for(size_t i=0;i<n;i++) next[i]=i;
  uint64_t r=88172645463325252ULL;
  for(size_t i=n-1;i>0;i--){ r^=r<<13;r^=r>>7;r^=r<<17; size_t j=r%i; uint32_t t=next[i];next[i]=next[j];next[j]=t; }
  uint32_t at=0;
  for(;;){
    sleep(5);
    double a=tcpu();
    uint64_t x=88172645463325252ULL;
    for(int i=0;i<(1<<20);i++){x^=x<<13;x^=x>>7;x^=x<<17;}
    double b=tcpu();
    for(int s=0;s<(1<<15);s++) at=next[at];
    double c=tcpu();
    char *m=mmap(0,4<<20,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0);
    for(size_t p=0;p<(4u<<20);p+=4096) m[p]=1;
    munmap(m,4<<20);
    double d=tcpu();
    sink=x+at;
    fprintf(f,"%.3f,%.3f,%.3f,%.3f\n",wall(),b-a,c-b,d-c); fflush(f);
  }
  return 0;
}
__attribute__((constructor)) static void start(void){
  char comm[64]={0}; FILE *c=fopen("/proc/self/comm","r"); if(!c) return;
  if(!fgets(comm,sizeof comm,c)){fclose(c);return;} fclose(c);
  if(strncmp(comm,"etcd\n",5)!=0) return;
  const char *dir=getenv("PROBE_DIR"); if(!dir) return;
  char path[512]; snprintf(path,sizeof path,"%s/probe-%d.csv",dir,getpid());
  FILE *f=fopen(path,"w"); if(!f) return;
  fprintf(f,"wall_s,compute_ms,memory_ms,fault4m_ms\n"); fflush(f);
  sigset_t all,old; sigfillset(&all); pthread_sigmask(SIG_SETMASK,&all,&old);
  pthread_t t; pthread_attr_t at; pthread_attr_init(&at); pthread_attr_setdetachstate(&at,PTHREAD_CREATE_DETACHED);
  pthread_create(&t,&at,run,f);
  pthread_sigmask(SIG_SETMASK,&old,0);
}
